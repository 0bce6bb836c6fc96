//! What the crate's tests share: a fixed clock, writing files into a
//! temporary content folder, asserting one problem's file, line and words,
//! and small valid files of each format to start a test from.

use std::fs;
use std::path::{Path, PathBuf};

use homedesk_protocol::UnixMillis;

use crate::ContentError;

pub(crate) const NOW: UnixMillis = 1_700_000_000_000;

pub(crate) fn write(dir: &Path, relative: &str, text: &str) -> PathBuf {
    let path = dir.join(relative);
    let parent = path.parent().expect("relative path has a parent");
    fs::create_dir_all(parent).expect("create parent folders");
    fs::write(&path, text).expect("write test file");
    path
}

/// Asserts exactly one problem, in the file ending with `file_name`, on
/// `line`, whose message contains every one of `needles`.
pub(crate) fn assert_single_error(
    errors: &[ContentError],
    file_name: &str,
    line: Option<usize>,
    needles: &[&str],
) {
    assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
    assert_error(&errors[0], file_name, line, needles);
}

pub(crate) fn assert_error(
    error: &ContentError,
    file_name: &str,
    line: Option<usize>,
    needles: &[&str],
) {
    assert!(
        error.file.ends_with(file_name),
        "error should name {file_name}: {error}"
    );
    assert_eq!(error.line, line, "wrong line in: {error}");
    for needle in needles {
        assert!(
            error.message.contains(needle),
            "message should contain {needle:?}: {error}"
        );
    }
}

pub(crate) const ARTICLE_ZH: &str = "+++\n\
    id = \"kb-zh-refund\"\n\
    locale = \"zh-CN\"\n\
    title = \"退款多久到账\"\n\
    tags = [\"退款\"]\n\
    category = \"refunds\"\n\
    +++\n\
    \n\
    原路退回，一般 1-3 个工作日到账。\n\n";

pub(crate) const ARTICLE_EN: &str = "+++\n\
    id = \"kb-en-refund\"\n\
    locale = \"en\"\n\
    title = \"Refund timeline\"\n\
    category = \"refunds\"\n\
    +++\n\
    Refunds go back to the original payment method.\n";

pub(crate) const REPLIES_ZH: &str = r#"
[[reply]]
id = "cr-zh-refund-eta"
title = "退款到账时间"
shortcut = "tk"
category = "refunds"
body = """
您好，订单 {order_no} 的退款已原路退回，预计 {eta} 前到账。
"""

[[reply.placeholders]]
name = "order_no"
kind = "order_no"
required = true

[[reply.placeholders]]
name = "eta"
kind = "date"
fallback = "3 个工作日"

[[reply]]
id = "cr-zh-greet"
locale = "zh-CN"
title = "问候"
shortcut = "hi"
category = "general"
body = "您好，请问有什么可以帮您？{ 不是占位符 }"
"#;

pub(crate) const SCRIPT: &str = r#"id = "sc-zh-verify"
locale = "zh-CN"
title = "核实身份"
category = "security"
keywords = ["身份"]
start = "greet"

[[step]]
id = "greet"
text = "您好，这里是客服中心。"

[[step.branch]]
label = "是本人"
next = "verify"

[[step.branch]]
label = "不是本人"
next = "end"

[[step]]
id = "verify"
text = "请提供订单号后四位。"
checkpoint = true

[[step.branch]]
label = "已核实"
next = "end"

[[step]]
id = "end"
text = "感谢来电。"
"#;
