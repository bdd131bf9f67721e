// What the validator puts in place of gateway.input and gateway.errors: the server's own
// streams, with every call checked on the way through (after wsgiref.validate's InputWrapper
// and ErrorWrapper). The bytes and the text pass through unchanged.
import type { ErrorStream, InputStream } from './contract.ts';
import { fail, show } from './validator-rules.ts';

/** Runs a check; a ContractError it throws is passed to onViolation, then rethrown. */
export type Enforce = <T>(check: () => T) => T;

/**
 * gateway.input, checked: sizes are whole byte counts (or omitted), one read at a time (the
 * app's side); every read gives a Uint8Array (the server's side).
 */
export function watchInput(input: InputStream, enforce: Enforce): InputStream {
  const state = { reading: false };
  // One read at a time: the stream has a single position, so two reads in flight would
  // each get an arbitrary part of the body.
  const oneAtATime = async <T>(call: string, size: unknown, read: () => Promise<T>): Promise<T> => {
    enforce(() => {
      if (
        size !== undefined &&
        !(typeof size === 'number' && Number.isInteger(size) && size >= 0)
      ) {
        fail(
          'input-size',
          `gateway.input.${call} was given ${show(size)}: ` +
            'pass a whole number of bytes (0 or more), or nothing to read to the end.',
        );
      }
      if (state.reading)
        fail(
          'input-concurrent',
          `gateway.input.${call} was called while another read was pending: ` +
            'await each read before starting the next.',
        );
    });
    state.reading = true;
    try {
      return await read();
    } finally {
      state.reading = false;
    }
  };
  const bytesFrom = (call: string, result: unknown): Uint8Array =>
    enforce(() => {
      if (!(result instanceof Uint8Array))
        fail(
          'input-result',
          `gateway.input.${call} gave ${show(result)}: ` +
            'a server must give Uint8Arrays (an empty one at the end).',
        );
      return result;
    });
  return {
    read: (size) =>
      oneAtATime('read()', size, async () => bytesFrom('read()', await input.read(size))),
    readline: (size) =>
      oneAtATime('readline()', size, async () =>
        bytesFrom('readline()', await input.readline(size)),
      ),
    [Symbol.asyncIterator]: () => {
      const inner = input[Symbol.asyncIterator]();
      return {
        next: () =>
          oneAtATime(
            '[Symbol.asyncIterator]',
            undefined,
            async (): Promise<IteratorResult<Uint8Array>> => {
              const step = await inner.next();
              return step.done === true
                ? step
                : { done: false, value: bytesFrom('[Symbol.asyncIterator]', step.value) };
            },
          ),
        return: async () => {
          await inner.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/** gateway.errors, checked: write() takes text, as a log line does. */
export function watchErrors(errors: ErrorStream, enforce: Enforce): ErrorStream {
  return {
    write: (text) => {
      const value: unknown = text;
      enforce(() => {
        if (typeof value !== 'string') {
          fail(
            'errors-write',
            `gateway.errors.write() was given ${show(value)}: ` +
              "pass a string, e.g. String(error) or error.stack, ending with '\\n'.",
          );
        }
      });
      errors.write(text);
    },
    flush: () => errors.flush(),
  };
}
