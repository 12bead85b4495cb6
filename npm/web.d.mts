// Types of the wxmedia npm package outside Node (the `workerd`, `edge-light`, `browser`, `deno`,
// `bun` and `default` conditions): the shared API of common.d.ts, without the Node helpers
// (uploadFile, download, downloadHdVoice, openMedia, saveMedia), which only the Node entry has.
export * from './common.js';
