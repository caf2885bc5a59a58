/** The browser's IndexedDB store (Dexie). Browser and Web Worker only; Node tests use fake-indexeddb. */
export * from './schema';
export * from './snapshots';
export * from './plans';
export * from './outbox';
export * from './cache';
export * from './erase';
