// Misuses the types must refuse: types.test.mjs expects exactly these errors, one per line marked.
import { MediaClient, WeChatError, signMediaUrl } from 'wxmedia';

const client = new MediaClient({ appId: 'wx', appSecret: 's' });
await client.upload('audio', new Uint8Array(1)); // expect TS2345
await client.get(42); // expect TS2345
new MediaClient({ tokenMode: 'fancy' }); // expect TS2322
signMediaUrl({ baseUrl: 'https://m.example.com', mediaId: 'x' }); // expect TS2345
const err: unknown = null;
if (err instanceof WeChatError) {
  const code: string = err.errcode; // expect TS2322
  void code;
}
const file = await client.get('x');
file.contentType; // expect TS2339
await client.download('x'); // expect TS2554
await client.uploadVoice(new Uint8Array(1), { mode: 8 }); // expect TS2322
await client.uploadVoice('reply.wav'); // expect TS2345
