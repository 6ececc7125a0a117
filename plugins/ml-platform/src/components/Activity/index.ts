export { ActivityTab } from './ActivityTab';
