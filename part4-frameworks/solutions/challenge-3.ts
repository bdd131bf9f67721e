// Part 4, challenge 3 solved: DELETE /entries/:id on the micro guestbook. 204 No Content when
// the entry is gone (RFC 9110 §9.3.5), 404 when there was none; a 405 at /entries/:id then
// lists DELETE in its Allow, which micro works out from the routes by itself.
//
//   npx tsx part4-frameworks/solutions/challenge-3.ts --port 8004
//   curl -i -H 'Content-Type: application/json' -d '{"name":"Ada","message":"Hi"}' \
//     http://127.0.0.1:8004/entries
//   curl -i -X DELETE http://127.0.0.1:8004/entries/1
//   npm run check -- part4 part4-frameworks/solutions/challenge-3.ts --challenge 3
//
// Done from outside, so the reference stays as it is: the model's store has no remove(), so
// removableStore wraps one, and the route is added to the app createGuestbook returns. In the
// reference itself it would be a remove() in guestbook-model.ts, and the same route in
// micro/guestbook.ts (and, in mvc/guestbook.ts, a `delete` view beside `get` in `entry`).
import { createGuestbookStore, type GuestbookStore } from '../guestbook-model.ts';
import { createGuestbook } from '../micro/guestbook.ts';
import { reply, type Micro } from '../micro/micro.ts';
import { runOnGateway } from '../serve.ts';

export interface RemovableStore extends GuestbookStore {
  /** Remove the entry; false if there was none. */
  remove(id: number): boolean;
}

/** `store`, with removed entries hidden from list() and find(). */
export function removableStore(store: GuestbookStore = createGuestbookStore()): RemovableStore {
  const removed = new Set<number>();
  const find = (id: number): ReturnType<GuestbookStore['find']> =>
    removed.has(id) ? undefined : store.find(id);
  return {
    list: () => store.list().filter((entry) => !removed.has(entry.id)),
    find,
    add: (entry) => store.add(entry),
    remove: (id) => {
      if (find(id) === undefined) return false;
      removed.add(id);
      // Forget the ids the store itself has dropped (it keeps MAX_ENTRIES): the set stays bounded.
      for (const old of removed) if (store.find(old) === undefined) removed.delete(old);
      return true;
    },
  };
}

export function createDeletableGuestbook(store: RemovableStore = removableStore()): Micro {
  const book = createGuestbook(store);
  book.delete('/entries/:id', (request) => {
    // Digits only, as GET /entries/:id: Number(' 1') would be 1.
    const id = /^\d+$/.test(request.params.id) ? Number(request.params.id) : Number.NaN;
    if (!store.remove(id))
      return reply({ status: 404, body: { error: 'There is no entry with that id.' } });
    return reply({ status: 204 });
  });
  return book;
}

export const app = createDeletableGuestbook();

runOnGateway(import.meta.url, app, 'The micro guestbook with DELETE /entries/:id');
