export { MonitoringTab } from './MonitoringTab';
export { HealthCard } from './HealthCard';
