import { benchNextConfig } from '../shared-next-config.mjs';

export default benchNextConfig;
