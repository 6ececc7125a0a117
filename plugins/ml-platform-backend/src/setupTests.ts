import http from 'node:http';

// A test backend with the events plugin long-polls its own event bus over
// HTTP; server.close() would wait for that request (about a minute) before
// backend.stop() returns. Tests stop servers at once, connections and all.
const close = http.Server.prototype.close;
http.Server.prototype.close = function closeNow(this: http.Server, ...args) {
  this.closeAllConnections();
  return close.apply(this, args);
};
