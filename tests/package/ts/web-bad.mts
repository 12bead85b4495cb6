// Outside Node the Node helpers do not exist: types.test.mjs expects exactly these errors.
import { MediaClient } from 'wxmedia';
import { openMedia } from 'wxmedia'; // expect TS2305
import type { SavedMedia } from 'wxmedia'; // expect TS2305

const client = new MediaClient({ accessToken: 'api-key' });
await client.uploadFile('image', './photo.jpg'); // expect TS2339
await client.download('id', './copy.jpg'); // expect TS2339
void openMedia;
export type Saved = SavedMedia;
