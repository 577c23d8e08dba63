// SSE encoding of what the engine writes to clients.

export const encodeData = (data: string): string => `data: ${data}\n\n`

export const encodeJson = (value: unknown): string => `data: ${JSON.stringify(value)}\n\n`

export const encodeComment = (text: string): string => `: ${text}\n\n`
