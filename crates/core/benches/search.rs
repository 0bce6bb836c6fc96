//! Speed of knowledge-base search on generated corpora.
//!
//! `cargo bench -p homedesk-core --bench search` builds search indexes of
//! 10 000 and 100 000 generated help-desk articles (mixed Chinese and
//! English, 300–1500 characters, fixed seed) in a temporary file each, and
//! reports the build time, the database size, and query latency per query
//! class: p50/p95 measured here over 200 queries per class, and criterion's
//! estimate of the mean time per query.
//!
//! Agents' stores are SQLCipher files (decision 0033), so the smallest
//! corpus is also built in an encrypted database with the same articles, and
//! each query runs on both, one after the other, for a plain/encrypted ratio
//! measured in the same run.
//!
//! `HOMEDESK_SEARCH_BENCH_SIZES=10000` (comma-separated) picks the corpus
//! sizes for a shorter run.
//!
//! Run without `--bench` (`cargo test --benches`), it indexes 1 000 articles
//! and runs every query once, to check that the bench works.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use homedesk_core::search::{self, SearchOptions};
use homedesk_protocol::KbArticle;
use pinyin::ToPinyin;
use rusqlite::Connection;

/// Content words of an online shop's help desk (Chinese).
#[rustfmt::skip]
const ZH_WORDS: &[&str] = &[
    "订单", "退款", "退货", "换货", "发货", "物流", "快递", "包裹", "签收", "地址", "修改", "取消", "优惠券", "红包", "积分",
    "会员", "发票", "支付", "付款", "余额", "银行卡", "信用卡", "分期", "运费", "包邮", "售后", "客服", "投诉", "质量", "破损",
    "漏发", "错发", "尺码", "颜色", "库存", "预售", "定金", "尾款", "价格", "保价", "差价", "活动", "满减", "折扣", "秒杀",
    "拼团", "直播", "店铺", "商品", "评价", "晒单", "退款申请", "审核", "处理", "时效", "工作日", "小时", "到账", "原路返回",
    "账号", "登录", "密码", "验证码", "手机号", "绑定", "解绑", "实名认证", "安全", "风险", "冻结", "解冻", "申诉", "延迟",
    "超时", "拦截", "改派", "转寄", "自提", "门店", "仓库", "出库", "揽收", "派送", "配送", "快递员", "驿站", "拒收", "退回",
    "寄回", "运单号", "查询", "物流信息", "更新", "异常", "丢件", "赔付", "补偿", "理赔", "保修", "维修", "安装", "说明书",
    "配件", "赠品", "礼品卡", "充值", "提现", "手续费", "利息", "额度", "还款", "账单", "逾期", "自动扣款", "免密支付", "开通",
    "关闭", "激活", "升级", "版本", "系统", "故障", "闪退", "网络", "页面", "显示", "错误", "提示", "重新", "尝试", "联系",
    "反馈", "建议", "满意", "道歉", "加急", "催促", "优先", "处理中", "已完成", "待付款", "待发货", "待收货", "待评价", "七天无理由",
    "上门取件", "运费险", "价保", "补发", "换新", "退差价", "开箱验货", "预约", "截图", "凭证",
];

/// Function words mixed into Chinese sentences.
#[rustfmt::skip]
const ZH_GLUE: &[&str] = &[
    "的", "了", "我", "您", "是", "在", "可以", "请", "如果", "因为", "所以", "需要", "已经", "没有", "什么", "怎么",
    "如何", "为什么", "时候", "这个", "一下", "一般", "不能", "无法", "吗", "呢", "和", "后", "前", "会", "就", "也",
    "都", "再", "还", "要",
];

/// Content words of the English articles.
#[rustfmt::skip]
const EN_WORDS: &[&str] = &[
    "order", "refund", "return", "exchange", "shipping", "delivery", "parcel", "package",
    "address", "cancel", "coupon", "voucher", "points", "member", "invoice", "payment",
    "balance", "card", "credit", "installment", "fee", "free", "warranty", "repair", "support",
    "complaint", "quality", "damaged", "missing", "wrong", "size", "color", "stock", "preorder",
    "deposit", "price", "discount", "sale", "store", "product", "review", "request", "approval",
    "processing", "days", "hours", "account", "login", "password", "code", "phone", "verify",
    "security", "frozen", "appeal", "delay", "timeout", "courier", "pickup", "warehouse",
    "tracking", "number", "update", "lost", "compensation", "claim", "gift", "topup",
    "withdraw", "interest", "limit", "bill", "overdue", "automatic", "activate", "upgrade",
    "version", "error", "crash", "network", "page",
];

#[rustfmt::skip]
const EN_GLUE: &[&str] = &[
    "the", "a", "your", "is", "to", "of", "and", "in", "for", "can", "will", "we", "you",
    "please", "if", "after", "before", "within", "not", "be",
];

/// SplitMix64: small, fast and the same on every platform and version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Picks words with Zipf-like frequencies (the first words are the most
/// common), as in real text.
struct Zipf<'a> {
    words: &'a [&'a str],
    cumulative: Vec<f64>,
}

impl<'a> Zipf<'a> {
    fn new(words: &'a [&'a str]) -> Self {
        let mut total = 0.0;
        let cumulative = (0..words.len())
            .map(|rank| {
                total += 1.0 / (rank as f64 + 1.0);
                total
            })
            .collect();
        Zipf { words, cumulative }
    }

    fn pick(&self, rng: &mut Rng) -> &'a str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
        let index = self.cumulative.partition_point(|c| *c < x);
        self.words[index.min(self.words.len() - 1)]
    }
}

struct Generator<'a> {
    rng: Rng,
    zh: Zipf<'a>,
    zh_glue: Zipf<'a>,
    en: Zipf<'a>,
    en_glue: Zipf<'a>,
}

impl Generator<'_> {
    fn new(seed: u64) -> Self {
        Generator {
            rng: Rng(seed),
            zh: Zipf::new(ZH_WORDS),
            zh_glue: Zipf::new(ZH_GLUE),
            en: Zipf::new(EN_WORDS),
            en_glue: Zipf::new(EN_GLUE),
        }
    }

    fn article(&mut self, n: usize) -> KbArticle {
        let english = self.rng.chance(20);
        let target = 300 + self.rng.below(1201);
        let (title, body, tags) = if english {
            (
                self.en_title(),
                self.en_body(target),
                self.tags(&EN_WORDS[..40]),
            )
        } else {
            (
                self.zh_title(),
                self.zh_body(target),
                self.tags(&ZH_WORDS[..60]),
            )
        };
        KbArticle {
            id: format!("kb-{n:06}"),
            locale: if english { "en" } else { "zh-CN" }.to_owned(),
            title,
            body,
            tags,
            category: "generated".to_owned(),
            updated_at: 0,
        }
    }

    fn zh_title(&mut self) -> String {
        let words = 2 + self.rng.below(3);
        (0..words).map(|_| self.zh.pick(&mut self.rng)).collect()
    }

    fn en_title(&mut self) -> String {
        let words = 3 + self.rng.below(4);
        let list: Vec<&str> = (0..words).map(|_| self.en.pick(&mut self.rng)).collect();
        list.join(" ")
    }

    fn tags(&mut self, pool: &[&str]) -> Vec<String> {
        (0..2 + self.rng.below(2))
            .map(|_| pool[self.rng.below(pool.len())].to_owned())
            .collect()
    }

    /// Paragraphs of sentences of content and function words, now and then
    /// an English word, a number or Markdown emphasis.
    fn zh_body(&mut self, target_chars: usize) -> String {
        let mut body = String::new();
        let mut chars = 0;
        while chars < target_chars {
            let mut sentence = String::new();
            for _ in 0..4 + self.rng.below(9) {
                let word = match self.rng.below(10) {
                    0..=5 => self.zh.pick(&mut self.rng).to_owned(),
                    6..=8 => self.zh_glue.pick(&mut self.rng).to_owned(),
                    _ if self.rng.chance(50) => format!(" {} ", self.en.pick(&mut self.rng)),
                    _ => (1 + self.rng.below(72)).to_string(),
                };
                sentence.push_str(&word);
            }
            if self.rng.chance(10) {
                sentence = format!("**{sentence}**");
            }
            sentence.push_str(if self.rng.chance(70) {
                "，"
            } else {
                "。\n\n"
            });
            chars += sentence.chars().count();
            body.push_str(&sentence);
        }
        body
    }

    fn en_body(&mut self, target_chars: usize) -> String {
        let mut body = String::new();
        while body.len() < target_chars {
            let words: Vec<String> = (0..6 + self.rng.below(10))
                .map(|_| {
                    if self.rng.chance(55) {
                        self.en.pick(&mut self.rng).to_owned()
                    } else {
                        self.en_glue.pick(&mut self.rng).to_owned()
                    }
                })
                .collect();
            body.push_str(&words.join(" "));
            body.push_str(if self.rng.chance(70) { ". " } else { ".\n\n" });
        }
        body
    }
}

/// A query class: name, locale filter, queries.
struct Class {
    name: &'static str,
    locale: Option<&'static str>,
    queries: Vec<String>,
}

fn class(name: &'static str, queries: Vec<String>) -> Class {
    Class {
        name,
        locale: None,
        queries,
    }
}

/// Query classes of 200 (test mode: 20) queries each.
fn query_classes(seed: u64, per_class: usize) -> Vec<Class> {
    let mut rng = Rng(seed);
    let zh = Zipf::new(ZH_WORDS);
    let en = Zipf::new(EN_WORDS);
    let window = |len: usize, rng: &mut Rng| -> String {
        // A window of `len` characters of one or two words, as typed.
        loop {
            let mut text: String = zh.pick(rng).to_owned();
            if text.chars().count() < len || rng.chance(30) {
                text.push_str(zh.pick(rng));
            }
            let chars: Vec<char> = text.chars().collect();
            if chars.len() >= len {
                let start = rng.below(chars.len() - len + 1);
                return chars[start..start + len].iter().collect();
            }
        }
    };
    let mut classes: Vec<Class> = Vec::new();
    for (name, len) in [
        ("1 Chinese char", 1),
        ("2 Chinese chars", 2),
        ("3 Chinese chars", 3),
        ("4 Chinese chars", 4),
    ] {
        let queries = (0..per_class).map(|_| window(len, &mut rng)).collect();
        classes.push(class(name, queries));
    }
    let mut pinyin_queries = vec!["tk".to_owned(), "tuikuan".to_owned()];
    while pinyin_queries.len() < per_class {
        let word = zh.pick(&mut rng);
        let readings: Vec<&str> = word.to_pinyin().flatten().map(|p| p.plain()).collect();
        if rng.chance(50) {
            pinyin_queries.push(readings.concat());
        } else {
            pinyin_queries.push(readings.iter().filter_map(|r| r.get(..1)).collect());
        }
    }
    classes.push(class("pinyin (tk, tuikuan, …)", pinyin_queries));
    let english = (0..per_class)
        .map(|_| {
            if rng.chance(60) {
                en.pick(&mut rng).to_owned()
            } else {
                format!("{} {}", en.pick(&mut rng), en.pick(&mut rng))
            }
        })
        .collect();
    classes.push(class("English words", english));
    // Locale filter on: the 2-character queries again, zh-CN articles only.
    let two = classes[1].queries.clone();
    classes.push(Class {
        name: "2 Chinese chars, locale zh-CN",
        locale: Some("zh-CN"),
        queries: two,
    });
    // The single most common character of the corpus, 的, repeated: the
    // worst case for ranking, which must still be bounded.
    classes.push(class(
        "most common char (的)",
        vec!["的".to_owned(); per_class.min(20)],
    ));
    classes
}

struct Built {
    conn: Connection,
    _dir: tempfile::TempDir,
    seconds: f64,
    /// The whole database file: the articles' text (`kb_articles`, as in a
    /// store) and the index.
    bytes: u64,
    /// The articles' text as indexed: title, tags and the body's plain text
    /// (UTF-8).
    text_bytes: u64,
    /// The search tables and their shadow tables and indexes.
    index_bytes: u64,
}

/// Bytes of the text an article gives the index.
fn text_size(article: &KbArticle) -> u64 {
    let tags: usize = article.tags.iter().map(String::len).sum();
    (article.title.len() + tags + homedesk_core::markdown::plain_text(&article.body).len()) as u64
}

/// Bytes of the search tables (everything named `search_…`, with their
/// shadow tables and automatic indexes), from SQLite's `dbstat`.
fn index_size(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row(
        "SELECT sum(pgsize) FROM dbstat
         WHERE name LIKE 'search%' OR name LIKE 'sqlite_autoindex_search%'",
        [],
        |row| row.get::<_, i64>(0),
    )
    .map(|bytes| bytes as u64)
}

/// A fixed 256-bit key in SQLCipher's raw-key form, as the store sets it.
const BENCH_KEY: &str = "x'000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'";

/// Indexes `articles` generated articles in a new file database; encrypted
/// with [`BENCH_KEY`] when `encrypted`.
/// How the bench indexes: as the workstation does, with a helper thread
/// preparing the articles ahead (`search::with_prepared_articles`), or all
/// on one thread (the baseline of the same run).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cores {
    Two,
    One,
}

fn build(
    articles: usize,
    encrypted: bool,
    cores: Cores,
) -> Result<Built, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("search.db");
    let mut conn = Connection::open(&path)?;
    if encrypted {
        conn.execute_batch(&format!("PRAGMA key = \"{BENCH_KEY}\";"))?;
        let cipher: String = conn.query_row("PRAGMA cipher_version", [], |r| r.get(0))?;
        assert!(!cipher.is_empty(), "SQLCipher is linked");
    }
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // The store's page cache (a negative size is in KiB).
    conn.pragma_update(
        None,
        "cache_size",
        -i64::from(homedesk_core::store::PAGE_CACHE_KIB),
    )?;
    search::register(&conn)?;
    conn.execute_batch(search::TEXT_SCHEMA)?;
    conn.execute_batch(search::SCHEMA)?;
    search::rebuild_if_stale(&conn)?;
    let mut generator = Generator::new(0x00C0_FFEE);
    // Only writing and indexing is timed, not making up the articles: they
    // are generated a thousand at a time, outside the clock.
    let mut indexing = Duration::ZERO;
    let tx = conn.transaction()?;
    let mut text_bytes = 0;
    let mut n = 0;
    while n < articles {
        let batch: Vec<KbArticle> = (n..articles.min(n + 1000))
            .map(|i| generator.article(i))
            .collect();
        n += batch.len();
        let started = Instant::now();
        let write_all = || {
            batch
                .iter()
                .try_for_each(|article| search::put_article(&tx, article))
        };
        match cores {
            // As the workstation indexes a pulled page.
            Cores::Two => search::with_prepared_articles(batch.iter().collect(), write_all)?,
            Cores::One => write_all()?,
        }
        indexing += started.elapsed();
        text_bytes += batch.iter().map(text_size).sum::<u64>();
    }
    let started = Instant::now();
    tx.commit()?;
    let seconds = (indexing + started.elapsed()).as_secs_f64();
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
    let bytes = std::fs::metadata(&path)?.len();
    let index_bytes = index_size(&conn)?;
    Ok(Built {
        conn,
        _dir: dir,
        seconds,
        bytes,
        text_bytes,
        index_bytes,
    })
}

/// The same corpus in a SQLCipher database: each query on the plain and on
/// the encrypted index in turn, which first alternating (so both see the
/// same machine load and neither is always the warmer), p50 and p95 of each
/// and their ratio.
fn compare_encrypted(
    size: usize,
    plain: &Built,
    classes: &[Class],
    options: &dyn Fn(&Class) -> SearchOptions,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let encrypted = build(size, true, Cores::Two)?;
    for class in classes {
        for query in &class.queries {
            search::search_articles(&encrypted.conn, query, &options(class))?;
        }
    }
    let mut lines = vec![
        format!(
            "\n{size} articles, plain vs SQLCipher: index built in {:.1} s vs {:.1} s ({:.2}x), database {:.1} MB vs {:.1} MB",
            plain.seconds,
            encrypted.seconds,
            encrypted.seconds / plain.seconds,
            plain.bytes as f64 / 1_000_000.0,
            encrypted.bytes as f64 / 1_000_000.0
        ),
        "| query class | plain p50 | SQLCipher p50 | p50 ratio | plain p95 | SQLCipher p95 | p95 ratio |"
            .to_owned(),
        "|---|---|---|---|---|---|---|".to_owned(),
    ];
    for class in classes {
        let opts = options(class);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for (n, query) in class.queries.iter().enumerate() {
            // The second of a pair runs warmer (the query's own tokens and
            // the CPU's caches): alternate which index goes first.
            let timed = |conn: &Connection| {
                let started = Instant::now();
                search::search_articles(conn, query, &opts).map(|hits| (hits, started.elapsed()))
            };
            let ((plain_hits, plain_time), (encrypted_hits, encrypted_time)) = if n % 2 == 0 {
                let p = timed(&plain.conn)?;
                (p, timed(&encrypted.conn)?)
            } else {
                let e = timed(&encrypted.conn)?;
                (timed(&plain.conn)?, e)
            };
            a.push(plain_time);
            b.push(encrypted_time);
            assert_eq!(
                plain_hits.iter().map(|h| &h.id).collect::<Vec<_>>(),
                encrypted_hits.iter().map(|h| &h.id).collect::<Vec<_>>(),
                "the same answers from both indexes for {query:?}"
            );
        }
        a.sort();
        b.sort();
        let ratio = |x: Duration, y: Duration| y.as_secs_f64() / x.as_secs_f64().max(1e-9);
        let (a50, b50, a95, b95) = (
            percentile(&a, 0.5),
            percentile(&b, 0.5),
            percentile(&a, 0.95),
            percentile(&b, 0.95),
        );
        lines.push(format!(
            "| {} | {} | {} | {:.2} | {} | {} | {:.2} |",
            class.name,
            ms(a50),
            ms(b50),
            ratio(a50, b50),
            ms(a95),
            ms(b95),
            ratio(a95, b95)
        ));
    }
    Ok(lines)
}

/// Bytes of each table of the index (with its shadow tables), from SQLite's
/// `dbstat`.
fn size_breakdown(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn
        .prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY sum(pgsize) DESC")?;
    let rows = stmt.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
    })?;
    let mut lines = vec!["| table | MB |".to_owned(), "|---|---|".to_owned()];
    for row in rows {
        let (name, bytes) = row?;
        lines.push(format!("| {name} | {:.1} |", bytes as f64 / 1_000_000.0));
    }
    lines.push(String::new());
    Ok(lines)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Results the knowledge panel asks for (`KnowledgePanel.svelte`); the
/// tables' first columns ask for 20.
const APP_LIMIT: usize = 8;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
    let (mut sizes, per_class): (Vec<usize>, usize) = if full {
        (vec![10_000, 100_000], 200)
    } else {
        (vec![1_000], 20)
    };
    if let Ok(chosen) = std::env::var("HOMEDESK_SEARCH_BENCH_SIZES") {
        sizes = chosen
            .split(',')
            .map(|n| n.trim().parse::<usize>())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("HOMEDESK_SEARCH_BENCH_SIZES={chosen:?}: {e}"))?;
    }
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let options = |class: &Class| SearchOptions {
        limit: 20,
        locale: class.locale.map(str::to_owned),
    };
    let mut report = Vec::new();
    for (index, &size) in sizes.iter().enumerate() {
        // The baseline first, then dropped: the same articles on one thread.
        let one_core = build(size, false, Cores::One)?.seconds;
        let built = build(size, false, Cores::Two)?;
        let classes = query_classes(0x5EED + size as u64, per_class);
        // Warm the page cache once, as an agent's second search would.
        for class in &classes {
            for query in &class.queries {
                search::search_articles(&built.conn, query, &options(class))?;
            }
        }
        report.push(format!(
            "\n{size} articles: index built in {:.1} s (on one thread: {one_core:.1} s, {:.2}x); text {:.1} MB, index {:.1} MB ({:.2}x the text), database file {:.1} MB",
            built.seconds,
            built.seconds / one_core.max(f64::MIN_POSITIVE),
            built.text_bytes as f64 / 1_000_000.0,
            built.index_bytes as f64 / 1_000_000.0,
            built.index_bytes as f64 / built.text_bytes.max(1) as f64,
            built.bytes as f64 / 1_000_000.0
        ));
        report.extend(size_breakdown(&built.conn)?);
        report.push(format!(
            "| query class | queries | p50 | p95 | max | mean hits | p50 at {APP_LIMIT} | p95 at {APP_LIMIT} | max at {APP_LIMIT} |"
        ));
        report.push("|---|---|---|---|---|---|---|---|---|".to_owned());
        let mut profile_lines = vec![
            format!("\n{size} articles, where the time went (mean per query):"),
            "| query class | plan | statistics | ranking | snippets | passes |".to_owned(),
            "|---|---|---|---|---|---|".to_owned(),
        ];
        for class in &classes {
            let (name, queries, opts) = (class.name, &class.queries, options(class));
            let mut times = Vec::with_capacity(queries.len());
            let mut hits = 0;
            let mut total = search::SearchProfile::default();
            for query in queries {
                let started = Instant::now();
                let (found, profile) = search::search_articles_profiled(&built.conn, query, &opts)?;
                times.push(started.elapsed());
                hits += found.len();
                total.plan += profile.plan;
                total.statistics += profile.statistics;
                total.ranking += profile.ranking;
                total.snippets += profile.snippets;
                total.passes += profile.passes;
            }
            times.sort();
            // The same queries as the knowledge panel asks them.
            let app = SearchOptions {
                limit: APP_LIMIT,
                ..opts.clone()
            };
            let mut app_times = Vec::with_capacity(queries.len());
            for query in queries {
                let started = Instant::now();
                black_box(search::search_articles(&built.conn, query, &app)?);
                app_times.push(started.elapsed());
            }
            app_times.sort();
            report.push(format!(
                "| {name} | {} | {} | {} | {} | {:.1} | {} | {} | {} |",
                queries.len(),
                ms(percentile(&times, 0.5)),
                ms(percentile(&times, 0.95)),
                ms(percentile(&times, 1.0)),
                hits as f64 / queries.len().max(1) as f64,
                ms(percentile(&app_times, 0.5)),
                ms(percentile(&app_times, 0.95)),
                ms(percentile(&app_times, 1.0)),
            ));
            let n = queries.len().max(1) as u32;
            profile_lines.push(format!(
                "| {name} | {} | {} | {} | {} | {:.2} |",
                ms(total.plan / n),
                ms(total.statistics / n),
                ms(total.ranking / n),
                ms(total.snippets / n),
                f64::from(total.passes) / f64::from(n)
            ));
        }
        report.extend(profile_lines);
        if index == 0 {
            report.extend(compare_encrypted(size, &built, &classes, &options)?);
        }
        let mut group = criterion.benchmark_group(format!("search {size}"));
        for class in &classes {
            let (queries, opts) = (&class.queries, options(class));
            let mut next = 0;
            group.bench_function(class.name, |b| {
                b.iter(|| {
                    let query = &queries[next % queries.len()];
                    next += 1;
                    let hits = search::search_articles(&built.conn, query, &opts);
                    black_box(hits.map(|h| h.len()).unwrap_or(0))
                });
            });
        }
        group.finish();
    }
    criterion.final_summary();
    println!(
        "\nknowledge-base search ({}):",
        if full { "bench" } else { "test mode" }
    );
    for line in report {
        println!("{line}");
    }
    Ok(())
}
