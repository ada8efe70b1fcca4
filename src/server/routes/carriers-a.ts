/** The route plugins of Telnyx, SignalWire and Exotel (one list, so build.ts changes by one line). */
import type { GatewayPlugin } from '../gateway.js';
import { telnyxRoutes } from './telnyx.js';
import { signalwireRoutes } from './signalwire.js';
import { exotelRoutes } from './exotel.js';

export const carrierRoutesA: readonly GatewayPlugin[] = [telnyxRoutes, signalwireRoutes, exotelRoutes];
