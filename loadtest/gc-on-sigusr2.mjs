// Preload for `node --expose-gc --import loadtest/gc-on-sigusr2.mjs ...` (loadtest/api-bad-requests.ts
// --gc-probe): a full GC on SIGUSR2, to tell memory V8 still holds alive from memory it keeps freed.
process.on('SIGUSR2', () => {
  globalThis.gc();
  globalThis.gc();
});
