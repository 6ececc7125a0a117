import { useState } from 'react';

let counter = 0;

/**
 * An id unique on the page and stable for the component's lifetime, for
 * wiring `aria-labelledby` and the like. (React 18's `useId` would do, but
 * the plugin still declares React 16 and 17 as peers.)
 */
export function useElementId(prefix: string): string {
  const [id] = useState(() => {
    counter += 1;
    return `${prefix}-${counter}`;
  });
  return id;
}
