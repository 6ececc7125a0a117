import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { churnInputs } from '../../__testUtils__';
import { InputForm } from './InputForm';
import { InputValues, initialInputValues, rowFromValues } from './values';

function Harness(props: {
  onRow: (r: ReturnType<typeof rowFromValues>) => void;
}) {
  const [values, setValues] = useState<InputValues>(
    initialInputValues(churnInputs),
  );
  return (
    <InputForm
      fields={churnInputs}
      values={values}
      onChange={v => {
        setValues(v);
        props.onRow(rowFromValues(churnInputs, v));
      }}
    />
  );
}

describe('InputForm', () => {
  it('renders one control per churn input, typed as the manifest says', () => {
    render(
      <InputForm
        fields={churnInputs}
        values={initialInputValues(churnInputs)}
        onChange={() => {}}
      />,
    );
    const tenure = screen.getByLabelText('tenure_months');
    expect(tenure).toHaveAttribute('type', 'number');
    expect(tenure).toHaveAttribute('step', '1');
    const charges = screen.getByLabelText('monthly_charges');
    expect(charges).toHaveAttribute('type', 'number');
    expect(charges).toHaveAttribute('step', 'any');
    expect(screen.getByLabelText('total_charges')).toHaveAttribute(
      'type',
      'number',
    );
    expect(screen.getByLabelText('support_calls')).toHaveAttribute('step', '1');
    expect(screen.getByLabelText('contract')).toHaveAttribute('type', 'text');
    expect(screen.getByLabelText('has_internet')).toHaveAttribute(
      'type',
      'checkbox',
    );
    // Descriptions are the help texts.
    expect(
      screen.getByText('One of month-to-month, one-year, two-year'),
    ).toBeInTheDocument();
  });

  it('turns what is typed into a typed record', async () => {
    const onRow = jest.fn();
    render(<Harness onRow={onRow} />);
    await userEvent.type(screen.getByLabelText('tenure_months'), '12');
    await userEvent.type(screen.getByLabelText('monthly_charges'), '70.35');
    await userEvent.type(screen.getByLabelText('contract'), 'one-year');
    await userEvent.click(screen.getByLabelText('has_internet'));

    expect(onRow).toHaveBeenLastCalledWith({
      row: {
        tenure_months: 12,
        monthly_charges: 70.35,
        contract: 'one-year',
        has_internet: true,
      },
      errors: {},
    });
  });

  it('shows field errors it is given', () => {
    render(
      <InputForm
        fields={churnInputs}
        values={initialInputValues(churnInputs)}
        errors={{ tenure_months: 'expected an integer' }}
        onChange={() => {}}
      />,
    );
    expect(screen.getByLabelText('tenure_months')).toHaveAttribute(
      'aria-invalid',
      'true',
    );
    expect(screen.getByText('expected an integer')).toBeInTheDocument();
  });
});

describe('rowFromValues', () => {
  it('types numbers and booleans and leaves blank optional fields out', () => {
    expect(
      rowFromValues(churnInputs, {
        ...initialInputValues(churnInputs),
        tenure_months: '3',
        total_charges: '1e3',
      }),
    ).toEqual({
      row: { tenure_months: 3, total_charges: 1000, has_internet: false },
      errors: {},
    });
  });

  it('names each bad or missing field', () => {
    const fields = [
      ...churnInputs,
      { name: 'region', type: 'string' as const, required: true },
      { name: 'age', type: 'integer' as const, required: true },
    ];
    expect(
      rowFromValues(fields, {
        ...initialInputValues(fields),
        tenure_months: '1.5',
        monthly_charges: 'abc',
      }).errors,
    ).toEqual({
      tenure_months: 'expected an integer',
      monthly_charges: 'expected a number',
      region: 'required',
      age: 'required',
    });
  });
});
