// app.js - entry point of the web app: loads the modules under js/ and starts
// the router. Kept tiny so that index.html never needs an inline script.
import { start } from './js/main.js';

start();
