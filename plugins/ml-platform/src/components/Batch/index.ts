export { BatchTab } from './BatchTab';
