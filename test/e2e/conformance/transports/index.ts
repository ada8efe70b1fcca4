/**
 * Every caller transport the conformance suite runs. Adding one: a file in this folder that
 * exports a `TransportUnderTest`, and one line here.
 */
import type { TransportUnderTest } from '../transport-under-test.js';
import { twilio } from './twilio.js';
import { browser } from './browser.js';
import { telnyx } from './telnyx.js';
import { signalwire } from './signalwire.js';
import { exotel } from './exotel.js';
import { plivo } from './plivo.js';
import { vonage } from './vonage.js';

export const TRANSPORTS: readonly TransportUnderTest[] = [
  twilio,
  browser,
  telnyx,
  signalwire,
  exotel,
  plivo,
  vonage,
];
