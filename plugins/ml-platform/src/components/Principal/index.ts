export { Principal } from './Principal';
