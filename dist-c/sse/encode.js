// SSE encoding of what the engine writes to clients.
export const encodeData = (data) => `data: ${data}\n\n`;
export const encodeJson = (value) => `data: ${JSON.stringify(value)}\n\n`;
export const encodeComment = (text) => `: ${text}\n\n`;
//# sourceMappingURL=encode.js.map