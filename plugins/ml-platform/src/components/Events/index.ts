export { EventsTab } from './EventsTab';
