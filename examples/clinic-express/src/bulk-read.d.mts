export function runBulkRead(
  baseUrl: string,
  options?: { say?: (text: string) => void },
): Promise<{ search: number; after: number; listed: number }>
