import * as Comlink from 'comlink';
import { bench } from './bench-api';
Comlink.expose(bench);
