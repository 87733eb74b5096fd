// The test people and their roles (accounts made by global-setup.ts).
export const PASSWORD = 'e2e password 123';
export const ACCOUNTS: Record<string, string> = {
  ana: 'support',
  bo: 'support',
  cam: 'support',
  cy: 'approver',
  dee: 'support,approver',
  fin: 'finance',
  pat: 'presenter',
  root: 'admin',
};
