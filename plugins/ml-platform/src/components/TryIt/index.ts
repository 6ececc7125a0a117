export { TryItTab } from './TryItTab';
