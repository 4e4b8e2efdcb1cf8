export declare const CONTENT_SECURITY_POLICY: string;
export declare const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]>;
export declare const STRICT_TRANSPORT_SECURITY: string;
export declare function sendsStrictTransportSecurity(publicOrigin: string | undefined): boolean;
export declare function securityHeadersFor(publicOrigin: string | undefined): Array<readonly [string, string]>;
