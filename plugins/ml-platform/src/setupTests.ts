import '@testing-library/jest-dom';

// jsdom lays nothing out, so the LogViewer's AutoSizer would measure 0×0 and
// render no lines; give it the size a real page would.
jest.mock('react-virtualized-auto-sizer', () => ({
  __esModule: true,
  default: (props: {
    children: (size: { width: number; height: number }) => unknown;
  }) => props.children({ width: 800, height: 400 }),
}));

export {};
