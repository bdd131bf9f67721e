// The guestbook's model: what an entry is, what makes one valid, and where entries are kept.
// It knows nothing of HTTP or of either framework, so both guestbooks (micro/guestbook.ts and
// mvc/guestbook.ts) use it as is: they agree on every rule and every message by construction,
// and what differs between those two files is only how each framework says the same thing.
//
// Simplification: entries live in this process's memory. They vanish on restart, and with
// `--workers N` each process keeps its own list. A real app would use a database.

/** The longest name and message, in characters (Unicode code points), after trimming. */
export const NAME_MAX_CHARS = 80;
export const MESSAGE_MAX_CHARS = 1000;
/** Entries kept; beyond this the oldest is dropped, so a flood of posts cannot fill memory. */
export const MAX_ENTRIES = 500;

export interface Entry {
  id: number;
  name: string;
  message: string;
  /** When it was added, ISO 8601 in UTC: '2026-11-25T00:41:10.000Z'. */
  createdAt: string;
}

export interface NewEntry {
  name: string;
  message: string;
}

export type Validation = { ok: true; entry: NewEntry } | { ok: false; errors: string[] };

/**
 * Check what a client sent (form fields or a JSON object) and say everything wrong with it at
 * once, limits included, so one round trip is enough to fix it.
 */
export function validateEntry(input: unknown): Validation {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return {
      ok: false,
      errors: ['Send an object with a name and a message: {"name": "Ada", "message": "Hello!"}.'],
    };
  }
  const fields = new Map(Object.entries(input));
  const name = checkText('name', fields.get('name'), NAME_MAX_CHARS);
  const message = checkText('message', fields.get('message'), MESSAGE_MAX_CHARS);
  const errors = [name, message].flatMap((field) => (field.ok ? [] : [field.error]));
  if (!name.ok || !message.ok) return { ok: false, errors };
  return { ok: true, entry: { name: name.text, message: message.text } };
}

function checkText(
  field: string,
  value: unknown,
  maxChars: number,
): { ok: true; text: string } | { ok: false; error: string } {
  const limits = `1 to ${maxChars} characters`;
  if (value === undefined || value === null)
    return { ok: false, error: `${field} is required (${limits}).` };
  if (typeof value !== 'string') return { ok: false, error: `${field} must be text (${limits}).` };
  const text = value.trim();
  // [...text] counts code points: an emoji is one character, as a person would count it.
  const length = [...text].length;
  if (length === 0) return { ok: false, error: `${field} is required (${limits}).` };
  if (length > maxChars)
    return {
      ok: false,
      error: `${field} is too long: ${length} characters, at most ${maxChars} allowed.`,
    };
  return { ok: true, text };
}

export interface GuestbookStore {
  /** Every entry, newest first. */
  list(): Entry[];
  find(id: number): Entry | undefined;
  add(entry: NewEntry): Entry;
}

/** A fresh, empty guestbook: one per app instance (and per test). */
export function createGuestbookStore(now: () => Date = () => new Date()): GuestbookStore {
  const entries: Entry[] = [];
  let lastId = 0;
  return {
    list: () => [...entries].reverse(),
    find: (id) => entries.find((entry) => entry.id === id),
    add: (entry) => {
      const added = {
        id: ++lastId,
        name: entry.name,
        message: entry.message,
        createdAt: now().toISOString(),
      };
      entries.push(added);
      if (entries.length > MAX_ENTRIES) entries.shift();
      return added;
    },
  };
}
