export { NotAnMlModel } from './NotAnMlModel';
