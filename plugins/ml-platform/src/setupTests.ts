import '@testing-library/jest-dom';

// jsdom lays nothing out, so the LogViewer's AutoSizer would measure 0×0 and
// render no lines; give it the size a real page would.
jest.mock('react-virtualized-auto-sizer', () => ({
  __esModule: true,
  default: (props: {
    children: (size: { width: number; height: number }) => unknown;
  }) => props.children({ width: 800, height: 400 }),
}));

// Recharts' ResponsiveContainer measures its box with a ResizeObserver,
// which jsdom lacks: report the size a chart would have on a real page.
class ResizeObserverWithSize {
  constructor(
    private readonly callback: (
      entries: { contentRect: { width: number; height: number } }[],
    ) => void,
  ) {}
  observe() {
    this.callback([{ contentRect: { width: 600, height: 220 } }]);
  }
  unobserve() {}
  disconnect() {}
}
(globalThis as { ResizeObserver?: unknown }).ResizeObserver =
  ResizeObserverWithSize;

export {};
