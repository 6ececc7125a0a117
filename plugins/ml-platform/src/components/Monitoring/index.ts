export { MonitoringTab } from './MonitoringTab';
export { HealthCard } from './HealthCard';
export { GrafanaHintCard } from './DashboardLinks';
