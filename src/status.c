/* ak_strerror() and ak_status_name(): tables generated from AK_STATUS_LIST. */
#include <atomkit/status.h>

static const char *const ak_status_text[] = {
#define _AK_STATUS_TEXT(name, text) [name] = text,
	AK_STATUS_LIST(_AK_STATUS_TEXT)
#undef _AK_STATUS_TEXT
};

static const char *const ak_status_names[] = {
#define _AK_STATUS_NAME(name, text) [name] = #name,
	AK_STATUS_LIST(_AK_STATUS_NAME)
#undef _AK_STATUS_NAME
};

const char *ak_strerror(int status)
{
	if (status < 0 || status >= AK_STATUS_COUNT_)
		return "unknown status";
	return ak_status_text[status];
}

const char *ak_status_name(int status)
{
	if (status < 0 || status >= AK_STATUS_COUNT_)
		return "AK_?";
	return ak_status_names[status];
}
