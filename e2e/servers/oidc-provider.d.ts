// oidc-provider ships no TypeScript declarations (and @types/oidc-provider does not cover v9);
// the local identity server uses it untyped.
declare module 'oidc-provider';
