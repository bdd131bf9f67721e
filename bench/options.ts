// Checks for the numbers given on the bench commands' lines (run.ts, memory.ts).

/** The value of `flag` as a whole number of at least 1, or an error that says so. */
export function wholeNumber(flag: string, text: string): number {
  const number = Number(text);
  if (!Number.isInteger(number) || number < 1)
    throw new Error(`${flag} needs a whole number of at least 1, got "${text}".`);
  return number;
}
