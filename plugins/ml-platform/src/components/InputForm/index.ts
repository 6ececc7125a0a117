export { InputForm } from './InputForm';
export type { InputFormProps } from './InputForm';
export { initialInputValues, rowFromValues } from './values';
export type { InputValues } from './values';
