/** The route plugins of the carriers beyond Twilio (one list, so build.ts changes by one line per carrier). */
import type { GatewayPlugin } from '../gateway.js';
import { telnyxRoutes } from './telnyx.js';
import { signalwireRoutes } from './signalwire.js';
import { exotelRoutes } from './exotel.js';
import { plivoRoutes } from './plivo.js';
import { vonageRoutes } from './vonage.js';

export const carrierRoutes: readonly GatewayPlugin[] = [telnyxRoutes, signalwireRoutes, exotelRoutes, plivoRoutes, vonageRoutes];
