export { TabContent } from './TabContent';
