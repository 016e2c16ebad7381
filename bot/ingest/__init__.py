"""Documents from Telegram (channel posts, channel exports, admin uploads) as corpus files."""

from bot.ingest.posts import (
    TELEGRAM_DIR,
    ChannelDirs,
    ChannelPost,
    WriteOutcome,
    post_link,
    remove_partial_writes,
    remove_post,
    write_post,
)
from bot.ingest.tgexport import ImportedPaths, ImportReport, SkippedChat, import_export, read_export
from bot.ingest.uploads import (
    UPLOAD_DIR,
    UploadResult,
    accept_upload,
    check_upload,
    remove_stale_uploads,
    safe_file_name,
    staging_path,
)

__all__ = [
    "TELEGRAM_DIR",
    "UPLOAD_DIR",
    "ChannelDirs",
    "ChannelPost",
    "ImportReport",
    "ImportedPaths",
    "SkippedChat",
    "UploadResult",
    "WriteOutcome",
    "accept_upload",
    "check_upload",
    "import_export",
    "post_link",
    "read_export",
    "remove_partial_writes",
    "remove_post",
    "remove_stale_uploads",
    "safe_file_name",
    "staging_path",
    "write_post",
]
