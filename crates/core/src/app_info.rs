//! Facts about this installation that the shell page and `homedesk-cli info`
//! show: name, version, data folder and interface language.

use serde::Serialize;
use ts_rs::TS;

use crate::Locale;

/// What the app tells about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "AppInfo.ts")]
pub struct AppInfo {
    /// Product name, not translated (it is a brand).
    pub name: String,
    /// Version of this build (the workspace version).
    pub version: String,
    /// Absolute path of the data folder, for support calls ("where are my files?").
    pub data_dir: String,
    /// The interface language the agent chose (zh-CN unless changed).
    pub locale: Locale,
}

/// Product name shown in the title bar and `--version` output.
pub const PRODUCT_NAME: &str = "Homedesk";
