import { within } from '@testing-library/react';

/**
 * An InfoCard's subheader text as a browser shows it. Backstage lays the
 * subheader out as a flex row: each child becomes a flex item, and the
 * whitespace between items and at their edges is dropped, which runs the
 * words of a sentence split over several children together.
 */
export function infoCardSubheaderText(card: HTMLElement): string {
  const flex = within(card).getByTestId('info-card-subheader')
    .firstElementChild as HTMLElement;
  expect(getComputedStyle(flex).display).toBe('flex');
  return Array.from(flex.childNodes)
    .map(node => (node.textContent ?? '').replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .join('');
}

/** The card (MUI Card) around the element, e.g. around its title. */
export function cardAround(element: HTMLElement): HTMLElement {
  const card = element.closest<HTMLElement>('.MuiCard-root');
  if (!card) {
    throw new Error('not inside a card');
  }
  return card;
}

/**
 * The elements inside `line` that would break it onto several lines:
 * block-level boxes (block, flex, …) not enclosed in an inline-level box
 * (inline-flex, inline-block, …), which would contain them.
 */
export function lineBreakersIn(line: HTMLElement): Element[] {
  const breakers: Element[] = [];
  const walk = (parent: Element) => {
    for (const child of Array.from(parent.children)) {
      const display = getComputedStyle(child).display;
      if (display === 'inline' || display === 'contents') {
        walk(child);
      } else if (display !== 'none' && !display.startsWith('inline-')) {
        breakers.push(child);
      }
    }
  };
  walk(line);
  return breakers;
}
