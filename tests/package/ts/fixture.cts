// The package from CommonJS TypeScript: `import … = require` and named imports resolve to
// index.d.cts (the "require" condition).
import wxmedia = require('wxmedia');
import { MediaClient, WeChatError, type UploadResult, type SavedMedia } from 'wxmedia';

export async function roundTrip(baseUrl: string, bytes: Uint8Array, path: string): Promise<SavedMedia | null> {
  const client: wxmedia.MediaClient = new MediaClient({ accessToken: 'a'.repeat(40), baseUrl });
  try {
    const up: UploadResult = await client.upload('image', bytes);
    return await client.download(up.mediaId, path);
  } catch (err) {
    if (err instanceof WeChatError && err.errcode === 40001) return null;
    if (wxmedia.MediaValidationError.is(err)) throw new Error(err.code);
    throw err;
  }
}

export const signed: string = wxmedia.signMediaUrl({ baseUrl: 'https://m.example.com', mediaId: 'x', signingKey: 'k' });
