import { buildEnviron as newBuild } from '../part3-gateway/environ.ts';
import { GatewayInput } from '../part3-gateway/input.ts';
import {
  buildEnviron as oldBuild,
  GatewayInput as OldInput,
} from '/tmp/before/part3-gateway/environ.ts';
const headers = [
  { name: 'Host', value: '127.0.0.1:8080' },
  { name: 'User-Agent', value: 'in-process' },
  { name: 'Accept', value: '*/*' },
];
const N = 300000;
const errors = { write() {}, flush() {} };
function runNew() {
  let s = 0;
  for (let i = 0; i < N; i++) {
    const req = {
      head: { method: 'GET', target: '/hello/world', version: 'HTTP/1.1' as const, headers },
      remoteAddress: '127.0.0.1',
      remotePort: 1,
      localAddress: '127.0.0.1',
      localPort: 8080,
      signal: null as any,
    };
    const e = newBuild(req, {
      input: new GatewayInput(async () => null),
      errors,
      multiprocess: false,
    });
    s += e.PATH_INFO.length;
  }
  return s;
}
function runOld() {
  let s = 0;
  for (let i = 0; i < N; i++) {
    const info = {
      method: 'GET',
      target: '/hello/world',
      protocol: 'HTTP/1.1' as const,
      headers,
      remoteAddress: '127.0.0.1',
      remotePort: 1,
      localAddress: '127.0.0.1',
      localPort: 8080,
    };
    const e = oldBuild(
      info as any,
      {
        input: new OldInput(async () => null),
        errors,
        signal: () => null as any,
        multiprocess: false,
      } as any,
    );
    s += e.PATH_INFO.length;
  }
  return s;
}
for (let r = 0; r < 4; r++)
  for (const [n, f] of [
    ['new', runNew],
    ['old', runOld],
  ] as const) {
    const t = process.hrtime.bigint();
    f();
    console.log(n, (Number(process.hrtime.bigint() - t) / 1000 / N).toFixed(3));
  }
