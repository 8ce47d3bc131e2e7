/*
 * command-error.c — the edge where GError becomes the protocol's ProtoError.
 *
 * qemu-ga reports every command failure as GenericError with the message
 * (research/qga.md §1.4: it only ever sends GenericError and CommandNotFound,
 * and CommandNotFound is the dispatcher's); the QUIESCE_ERROR code stays
 * available to our own extensions' structured replies.
 */
#include "agent/commands/commands.h"

void command_error_take_gerror(ProtoError **error, GError *gerror)
{
    proto_error_set_literal(error, PROTO_ERROR_CLASS_GENERIC_ERROR, gerror->message);
    g_error_free(gerror);
}
