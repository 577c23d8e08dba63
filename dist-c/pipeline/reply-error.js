import { replyJson } from './reply.js';
/** `redact` masks the ruleset's secrets in the message: it may quote an upstream or a transform's input. */
export async function replyError(res, err, stream, redact) {
    if (res.destroyed)
        return;
    if (redact)
        err.message = redact(err.message);
    if (!res.headersSent) {
        replyJson(res, err.status, err.toBody(), err.headers ?? {});
        return;
    }
    if (stream) {
        try {
            await stream.client.write(await stream.run.onError(err));
        }
        catch { /* the client is gone */ }
        stream.client.end();
        return;
    }
    // Bytes of a pass-through body already went out: all that is left is to cut the connection.
    res.destroy();
}
//# sourceMappingURL=reply-error.js.map