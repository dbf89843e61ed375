/**
 * The largest request body accepted; larger ones get 413 before they are read. 8 KB is what AWS WAF
 * inspects of a body behind an Application Load Balancer, and its common rule set blocks larger bodies
 * (SizeRestrictions_BODY): the API refuses them itself at the same size, with a problem the client can
 * read, so an environment with WAF accepts exactly what one without it does. The stack's test reads
 * this and the synthesized web ACL (__tests__/edge/web-acl.test.ts). No imports: the stack's tests load it.
 */
export const BODY_LIMIT_BYTES = 8 * 1024;
