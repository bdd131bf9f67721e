// Part 4, challenge 2 solved: ETags and conditional GET, as middleware on the contract, so it
// works around any app of any framework (here the mvc guestbook). A 200 answer to GET or HEAD
// gets an ETag, a hash of its body (RFC 9110 §8.8.3); a request whose If-None-Match names that
// tag gets 304 Not Modified and no body (§13.1.2, §15.4.5): the client's copy is still good.
//
//   npx tsx part4-frameworks/solutions/challenge-2.ts --port 8004
//   curl -i http://127.0.0.1:8004/entries      then again with -H 'If-None-Match: <its ETag>'
//   npm run check -- part4 part4-frameworks/solutions/challenge-2.ts --challenge 2
//
// What it leaves out: If-Match and the other preconditions (§13.1), ETags on other statuses,
// Cache-Control (how long a client may reuse its copy without asking).
import { createHash } from 'node:crypto';
import type { Application, ResponseHeader, WriteFunction } from '../../part3-gateway/contract.ts';
import { FRAMEWORKS } from '../site.ts';
import { runOnGateway } from '../serve.ts';

/**
 * `app` with ETags on its 200 answers to GET and HEAD.
 * Simplification: the response is buffered whole to hash it, so a streamed body loses its
 * streaming (the guestbook's pages are small); a real server often hashes a file's size and time.
 */
export function withETags(app: Application): Application {
  return async (environ, startResponse) => {
    if (environ.REQUEST_METHOD !== 'GET' && environ.REQUEST_METHOD !== 'HEAD')
      return app(environ, startResponse);
    const chunks: Uint8Array[] = [];
    let status = '';
    let headers: ResponseHeader[] = [];
    let crash: unknown;
    const write: WriteFunction = (chunk) => void chunks.push(chunk);
    const body = await app(environ, (newStatus, newHeaders, error) => {
      [status, headers, crash] = [newStatus, newHeaders, error];
      return write;
    });
    try {
      for await (const chunk of body) chunks.push(chunk);
    } finally {
      await body.close?.();
    }
    const bytes = Buffer.concat(chunks);
    if (!status.startsWith('200 ') || crash !== undefined) {
      startResponse(status, headers, crash);
      return [bytes];
    }
    const tag = `"${createHash('sha1').update(bytes).digest('base64url')}"`;
    if (matches(environ.HTTP_IF_NONE_MATCH, tag)) {
      // §15.4.5: a 304 carries the ETag (and would carry Cache-Control, Vary...), never a body.
      startResponse('304 Not Modified', [['ETag', tag]]);
      return [];
    }
    startResponse(status, [...headers, ['ETag', tag]]);
    return [bytes];
  };
}

/** If-None-Match: `*`, or a list of tags compared weakly (W/ ignored, §8.8.3.2). */
function matches(ifNoneMatch: string | undefined, tag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const strip = (candidate: string): string => candidate.trim().replace(/^W\//, '');
  return ifNoneMatch
    .split(',')
    .some((candidate) => candidate.trim() === '*' || strip(candidate) === tag);
}

export const app = withETags(FRAMEWORKS.mvc());

runOnGateway(import.meta.url, app, 'The mvc guestbook with ETags (If-None-Match → 304)');
