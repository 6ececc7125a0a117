export * from './fixtures';
export * from './render';
export * from './layout';
