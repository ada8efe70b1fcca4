/**
 * Issue 12: the same end-to-end scenarios on every caller transport (scenarios.ts), one
 * transport after the other. `VW_CONFORMANCE=telnyx,exotel` runs only those (for development).
 */
import { conformanceSuite } from './scenarios.js';
import { TRANSPORTS } from './transports/index.js';

const only = (process.env['VW_CONFORMANCE'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
for (const tut of TRANSPORTS) {
  if (only.length === 0 || only.includes(tut.name)) conformanceSuite(tut);
}
