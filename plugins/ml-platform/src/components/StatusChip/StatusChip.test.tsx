import { renderInTestApp } from '@backstage/test-utils';
import { screen } from '@testing-library/react';
import { lineBreakersIn } from '../../__testUtils__';
import { StatusChip } from './StatusChip';

describe('StatusChip', () => {
  it('renders inline, so it can sit in a line of text', async () => {
    await renderInTestApp(
      <p data-testid="line">
        v2 <StatusChip status="succeeded" /> on main
      </p>,
    );
    expect(lineBreakersIn(screen.getByTestId('line'))).toEqual([]);
    const chip = screen.getByTestId('status-chip');
    // Backstage's StatusOK inside is a block-level flex box; the chip
    // itself must be inline-level so the line does not break around it.
    expect(getComputedStyle(chip).display).toBe('inline-flex');
    expect(getComputedStyle(chip.firstElementChild!).display).toBe('flex');
  });

  it('gives assistive technology the status text', async () => {
    await renderInTestApp(
      <>
        <button>
          <StatusChip status="failed" />
        </button>
        <button>
          <StatusChip status="succeeded" label="HTTP 200" />
        </button>
      </>,
    );
    expect(screen.getByRole('button', { name: 'failed' })).toBeInTheDocument();
    expect(
      screen.getByRole('button', { name: 'HTTP 200' }),
    ).toBeInTheDocument();
    // Not Backstage's generic "Status error" / "Status ok".
    expect(screen.queryByLabelText(/^Status /)).toBeNull();
    expect(screen.getByText('failed')).not.toHaveAttribute('aria-hidden');
  });

  it('falls back to the pending icon for an unknown status', async () => {
    await renderInTestApp(<StatusChip status="mystery" />);
    expect(screen.getByTestId('status-pending')).toBeInTheDocument();
    expect(screen.getByText('mystery')).toBeInTheDocument();
  });
});
