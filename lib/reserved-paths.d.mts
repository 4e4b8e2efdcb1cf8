export declare const API_PATH: '/api';
export declare const AGENT_PATH: '/oauth-agent';
export declare const PROBE_PATHS: readonly string[];
export declare const NEXT_ASSETS_PATH: '/_next';
export declare function isUnder(url: string | undefined, prefix: string): boolean;
export declare function isApiPath(url: string | undefined): boolean;
export declare function isOwnMethodsPath(url: string | undefined): boolean;
export declare const RESERVED_SOURCE_PATTERN: string;
