// The mock host's practice mode: a few of content/scenarios (their real ids,
// titles, summaries, customers and rubrics, with the turn tree flattened to
// a list of reactions) played by a small simulator that scores like the
// core (crates/core/src/practice/score.rs), with its reasons worded the same.
// Time is the real clock: the customer nudges and escalates when the mock is
// next asked for something after their patience ran out.

import type {
  OrderSummary,
  PracticeCatalog,
  PracticePack,
  PracticeScenario,
  ReplayKind,
  ResponseTime,
  RubricResult,
  ScoreReport,
} from "./index";

type Trigger =
  { intent: string } | { article: string } | { script_step: string } | { disposition: string };

type Check =
  | { did: Trigger }
  | { avoid: { intent: string; unlessAfter?: string; reason: string } }
  | "respond_in_time"
  | "no_escalation"
  | "correct_disposition";

interface Item {
  id: string;
  description: string;
  points: number;
  check: Check;
}

export interface MockScenario extends PracticeScenario {
  customer: {
    name: string;
    city: string;
    phoneMasked: string;
    order: Omit<OrderSummary, "placed_at"> & { placedDaysAgo: number };
  };
  opening: string;
  patience: {
    nudgeAfterSecs: number;
    nudge: string;
    escalateAfterSecs: number;
    escalation: string;
  };
  intents: Record<string, string[]>;
  /** The customer's reactions, first match wins; each fires once. */
  reactions: { when: Trigger; say?: string }[];
  /** What the customer says to any other reply. */
  fallback: string;
  rubric: {
    passMark: number;
    responseSecs: number;
    disposition: string;
    helpfulArticle: string | null;
    items: Item[];
  };
}

export const MOCK_SCENARIOS: MockScenario[] = [
  {
    id: "sc-zh-where-parcel",
    locale: "zh-CN",
    title: "我的快递到哪了",
    level: "easy",
    channel: "chat",
    summary:
      "大学生买的卫衣发货三天还没到，物流停在武汉转运中心两天没更新。查物流、说清楚位置、帮她催件，别打包票。",
    customer: {
      name: "林晓萌",
      city: "长沙",
      phoneMasked: "186****0421",
      order: {
        order_no: "TB4018263500120417",
        item: "加绒连帽卫衣 燕麦色 M",
        amount_fen: 8900,
        status: "已发货（中通快递），物流停在武汉转运中心，2天未更新",
        placedDaysAgo: 4,
      },
    },
    opening: "在吗 我买的卫衣怎么还没到啊 都好几天了",
    patience: {
      nudgeAfterSecs: 90,
      nudge: "？？人呢",
      escalateAfterSecs: 180,
      escalation: "半天没人回 什么客服啊 我要给差评了",
    },
    intents: {
      greeting: ["您好", "你好", "在的", "很高兴为您服务"],
      check: ["查一下", "查查", "帮您看", "给您看", "看一下", "查询", "核实"],
      location: ["武汉", "转运", "中转"],
      urge: ["催件", "催一下", "催促", "催了", "加急", "联系快递", "联系了快递", "联系中通"],
      timeframe: ["24小时", "一天内", "明天", "后天", "一两天", "1-2天", "1到2天"],
      promise_date: ["保证明天", "肯定明天", "明天一定", "保证到", "一定能到", "肯定能到", "包您"],
    },
    reactions: [
      { when: { intent: "location" }, say: "停在武汉两天了？？不会丢了吧 我周六要穿的" },
      { when: { intent: "urge" }, say: "那催完大概多久能有消息啊" },
      { when: { intent: "check" }, say: "好 你快点哈" },
      { when: { intent: "timeframe" }, say: "行吧 那有消息了你跟我说一声" },
      { when: { article: "kb-zh-delivery-stuck" } },
    ],
    fallback: "我就想知道我快递到哪了",
    rubric: {
      passMark: 70,
      responseSecs: 60,
      disposition: "info_given",
      helpfulArticle: "kb-zh-delivery-stuck",
      items: [
        {
          id: "greeting",
          description: "开口先问候（您好 / 在的），让客户知道有人在处理。",
          points: 10,
          check: { did: { intent: "greeting" } },
        },
        {
          id: "checked_order",
          description: "告诉客户正在帮她查物流，而不是让她自己去查。",
          points: 10,
          check: { did: { intent: "check" } },
        },
        {
          id: "told_location",
          description: "说清楚包裹现在在哪：停在武汉转运中心，两天没更新。",
          points: 15,
          check: { did: { intent: "location" } },
        },
        {
          id: "urged_courier",
          description: "物流停滞超过正常时效，主动给快递提交催件。",
          points: 20,
          check: { did: { intent: "urge" } },
        },
        {
          id: "no_guarantee",
          description: "没有给到货时间打包票。",
          points: 15,
          check: {
            avoid: {
              intent: "promise_date",
              reason:
                "催件不能保证快递一定提速，说了“保证明天到”做不到，客户会更生气。可以说“一般24小时内快递会回复”。",
            },
          },
        },
        {
          id: "in_time",
          description: "每次回复都在60秒内。",
          points: 15,
          check: "respond_in_time",
        },
        {
          id: "disposition",
          description: "结束时选“已告知信息”（info_given）。",
          points: 15,
          check: "correct_disposition",
        },
      ],
    },
  },
  {
    id: "sc-zh-coupon-expired",
    locale: "zh-CN",
    title: "直播间的券过期了，能补吗",
    level: "easy",
    channel: "chat",
    summary:
      "宝妈想用直播间领的满99减10，发现昨天已过期。先问清是哪张券，如实说明过期券恢复不了，再引导她领店铺首页现有的券。",
    customer: {
      name: "周敏",
      city: "郑州",
      phoneMasked: "138****0517",
      order: {
        order_no: "TB4018263500197730",
        item: "加厚塑料收纳箱 大号 2个装（购物车中，未下单）",
        amount_fen: 11800,
        status: "未下单",
        placedDaysAgo: 0,
      },
    },
    opening:
      "客服 我在直播间领的那个满99减10的券怎么用不了了 显示已过期 昨天还在的 能不能给我补一张",
    patience: {
      nudgeAfterSecs: 90,
      nudge: "亲 在吗",
      escalateAfterSecs: 180,
      escalation: "问个券半天不回 那我不买了",
    },
    intents: {
      greeting: ["您好", "你好", "在的", "很高兴为您服务"],
      ask_which: ["哪张", "什么券", "截图", "截个图", "卡券", "看一下", "查一下", "帮您看"],
      cannot_restore: ["没办法恢复", "恢复不了", "无法恢复", "不能恢复", "没法恢复", "补不了"],
      restore: ["马上帮您恢复", "给您恢复一下", "帮您恢复一下", "可以帮您延期", "给您补回来"],
      new_coupon: ["首页", "领一下", "领一张", "去领", "可以领", "满99减8", "店铺券"],
    },
    reactions: [
      { when: { intent: "restore" }, say: "真的吗 那你快帮我弄一下 我等着下单" },
      { when: { intent: "ask_which" }, say: "[图片] 就这张 直播间领的满99减10 显示已过期" },
      { when: { intent: "cannot_restore" }, say: "啊 那我岂不是亏了10块 早知道昨天就下单了" },
      {
        when: { intent: "new_coupon" },
        say: "我看到了 满99减8的 那也行吧 少2块就少2块 我现在去拍",
      },
    ],
    fallback: "就是直播间领的那张券啊 昨天还能用的",
    rubric: {
      passMark: 70,
      responseSecs: 60,
      disposition: "info_given",
      helpfulArticle: "kb-zh-coupon-expired",
      items: [
        {
          id: "greeting",
          description: "开口先问候。",
          points: 10,
          check: { did: { intent: "greeting" } },
        },
        {
          id: "asked_which",
          description: "先核对是哪张券（请客户截图“我的卡券”或帮她查），再下结论。",
          points: 15,
          check: { did: { intent: "ask_which" } },
        },
        {
          id: "explained",
          description: "如实说明过期的券系统没办法恢复。",
          points: 20,
          check: { did: { intent: "cannot_restore" } },
        },
        {
          id: "no_false_promise",
          description: "没有答应“帮您恢复 / 延期”过期券。",
          points: 20,
          check: {
            avoid: {
              intent: "restore",
              reason: "过期的券系统没办法恢复，也不能延期。答应了做不到，客户会觉得被耍了。",
            },
          },
        },
        {
          id: "offered_alternative",
          description: "引导客户领取店铺首页现在能用的券（满99减8）。",
          points: 15,
          check: { did: { intent: "new_coupon" } },
        },
        {
          id: "in_time",
          description: "每次回复都在60秒内。",
          points: 10,
          check: "respond_in_time",
        },
        {
          id: "disposition",
          description: "结束时选“已告知信息”（info_given）。",
          points: 10,
          check: "correct_disposition",
        },
      ],
    },
  },
  {
    id: "sc-zh-invoice-company",
    locale: "zh-CN",
    title: "公司报销要开专用抬头发票，还想开成“办公用品”",
    level: "easy",
    channel: "ticket",
    summary:
      "公司行政留言要开企业抬头电子发票，并要求把品名写成“办公用品”。复述核对抬头和税号，说明品名只能按实际商品开，告诉她开票时间。",
    customer: {
      name: "何静",
      city: "宜宾",
      phoneMasked: "139****0842",
      order: {
        order_no: "TB4018263500168842",
        item: "加厚塑料收纳箱 大号 ×12",
        amount_fen: 45540,
        status: "已确认收货",
        placedDaysAgo: 8,
      },
    },
    opening:
      "你好，上周在贵店买的收纳箱（订单号TB4018263500168842）需要开公司的电子发票。抬头：宜宾市青禾文化传媒有限公司，税号：91511502MA6X8R4K3Q。另外发票内容能不能开成“办公用品”？我们财务说这样好报销。麻烦尽快，谢谢。",
    patience: {
      nudgeAfterSecs: 600,
      nudge: "你好，请问发票的事有人处理吗？",
      escalateAfterSecs: 1200,
      escalation: "工单提交大半天了都没人回复，我去平台那边反映了。",
    },
    intents: {
      greeting: ["您好", "你好", "很高兴为您服务"],
      readback: ["核对", "确认一下", "K3Q", "抬头是", "税号是", "税号尾号", "后四位"],
      item_rule: ["实际名称", "实际品名", "实际商品", "商品名称", "按商品", "如实开", "和订单一致"],
      office_ok: ["办公用品没问题", "办公用品也行", "办公用品可以的", "按办公用品给您开"],
      timeframe: ["1-3", "1–3", "1到3", "1~3", "三个工作日", "3个工作日", "两三天"],
    },
    reactions: [
      { when: { intent: "office_ok" }, say: "好的，那就麻烦按办公用品开，谢谢。" },
      {
        when: { intent: "readback" },
        say: "对的，抬头和税号都没错。那品名能写办公用品吗？财务那边说写收纳箱不好报。",
      },
      { when: { intent: "item_rule" }, say: "行，那就按实际品名开吧。大概多久能开好？" },
      { when: { intent: "timeframe" }, say: "好的，那我等着，月底前能报就行，谢谢。" },
    ],
    fallback: "请问发票能开吗？抬头和税号我上面都发了。",
    rubric: {
      passMark: 70,
      responseSecs: 300,
      disposition: "resolved",
      helpfulArticle: "kb-zh-invoice-company",
      items: [
        {
          id: "greeting",
          description: "回复工单先问候。",
          points: 10,
          check: { did: { intent: "greeting" } },
        },
        {
          id: "readback",
          description: "把抬头和税号复述给客户核对（公司名要和营业执照一字不差）。",
          points: 20,
          check: { did: { intent: "readback" } },
        },
        {
          id: "item_rule",
          description: "说明发票品名只能按实际商品开，和订单一致。",
          points: 20,
          check: { did: { intent: "item_rule" } },
        },
        {
          id: "no_office",
          description: "没有答应把品名开成“办公用品”。",
          points: 20,
          check: {
            avoid: {
              intent: "office_ok",
              reason: "发票品名必须和实际商品一致，开成“办公用品”属于虚开，店铺和客户都有风险。",
            },
          },
        },
        {
          id: "timeframe",
          description: "告诉客户开票时间（1–3个工作日）。",
          points: 10,
          check: { did: { intent: "timeframe" } },
        },
        {
          id: "in_time",
          description: "工单在5分钟内回复。",
          points: 10,
          check: "respond_in_time",
        },
        {
          id: "disposition",
          description: "登记开票后选“已解决”（resolved）。",
          points: 10,
          check: "correct_disposition",
        },
      ],
    },
  },
  {
    id: "sc-zh-refund-not-received",
    locale: "zh-CN",
    title: "退款显示成功了，钱没到（电话回访）",
    level: "medium",
    channel: "phone",
    summary:
      "退货退款4天前已成功，原路退回建行储蓄卡，客户只看短信没看到钱，申请回电。按退款回访话术核对身份、说明原路退回和到账时间、教他查支付宝账单，不要说“再退一次”。",
    customer: {
      name: "陈建国",
      city: "成都",
      phoneMasked: "139****0517",
      order: {
        order_no: "TB4018263500139925",
        item: "不锈钢三层蒸锅 28cm",
        amount_fen: 15900,
        status: "退款成功（4天前），原路退回：建设银行储蓄卡（快捷支付）",
        placedDaysAgo: 15,
      },
    },
    opening: "退款显示成功四天了 银行卡里没看到钱 你们给我回个电话说清楚",
    patience: {
      nudgeAfterSecs: 30,
      nudge: "喂？喂？还在听没有？",
      escalateAfterSecs: 60,
      escalation: "喂！打个电话过来又不说话，搞啥子嘛！算了，我自己去平台投诉。",
    },
    intents: {
      opened: ["山禾"],
      verify_words: ["后四位", "尾号", "核对", "收件人"],
      original_route: ["原路", "储蓄卡", "建设银行", "建行", "工作日"],
      bill: ["账单", "流水", "明细"],
      refund_again: ["再给您退一次", "重新退一次", "再退一次", "重新给您退", "再退一遍"],
      closing: ["还有其他", "随时找我们", "再见"],
    },
    reactions: [
      {
        when: { intent: "opened" },
        say: "喂，对，我是陈建国。你们总算打过来了，退款那个事到底咋回事嘛？",
      },
      {
        when: { script_step: "script-zh-refund-callback#verify" },
        say: "收件人陈建国，手机尾号0517。",
      },
      { when: { intent: "verify_words" }, say: "收件人陈建国，手机尾号0517。" },
      { when: { intent: "refund_again" }, say: "要得，那你再退一次嘛，我等着。" },
      { when: { intent: "original_route" }, say: "我一直看手机短信的，没收到建行的短信啊。" },
      {
        when: { intent: "bill" },
        say: "你等一下哈……哦，支付宝账单里头是有一条退款，写的退到建设银行储蓄卡，前天就到账了。那我再去看看银行流水。",
      },
      { when: { intent: "closing" }, say: "没得了，谢谢你哈，再见。" },
    ],
    fallback: "你先说嘛，钱到底退了没有？",
    rubric: {
      passMark: 70,
      responseSecs: 20,
      disposition: "resolved",
      helpfulArticle: "kb-zh-refund-timeline",
      items: [
        {
          id: "opened_call",
          description: "电话接通先报店铺和自己，说明来意。",
          points: 10,
          check: { did: { intent: "opened" } },
        },
        {
          id: "verified",
          description: "按回访话术核对身份（收件人姓名 + 手机尾号），不问验证码。",
          points: 20,
          check: { did: { script_step: "script-zh-refund-callback#verify" } },
        },
        {
          id: "explained_route",
          description: "说明退款已成功、原路退回建行储蓄卡，银行入账1–7个工作日。",
          points: 15,
          check: { did: { intent: "original_route" } },
        },
        {
          id: "guided_bill",
          description: "教客户在支付宝“账单”里查退款去向、看银行卡流水，而不是只看短信。",
          points: 20,
          check: { did: { intent: "bill" } },
        },
        {
          id: "no_refund_again",
          description: "没有说“再给您退一次”。",
          points: 15,
          check: {
            avoid: {
              intent: "refund_again",
              reason:
                "退款成功后钱已经不在店铺了，“再退一次”做不到，客户会当成承诺，下次就是投诉。",
            },
          },
        },
        {
          id: "in_time",
          description: "电话里每次客户说完，20秒内接上话。",
          points: 10,
          check: "respond_in_time",
        },
        {
          id: "disposition",
          description: "客户确认钱已到账，选“已解决”（resolved）。",
          points: 10,
          check: "correct_disposition",
        },
      ],
    },
  },
  {
    id: "sc-zh-rotten-peaches",
    locale: "zh-CN",
    title: "直播间买的水蜜桃烂了，客户很生气",
    level: "hard",
    channel: "chat",
    summary:
      "客户在助农直播间买的5斤水蜜桃，签收两小时打开坏了不少，上来就要退款、扬言投诉。先道歉安抚，核对签收时间，请她拍整箱和坏果称重的照片，看到照片再按重量给方案。照片没看到前不能答应退款、不能报金额。",
    customer: {
      name: "郑雅琴",
      city: "广州",
      phoneMasked: "186****0615",
      order: {
        order_no: "TB4018263500102296",
        item: "阳山水蜜桃 5斤装（助农直播）",
        amount_fen: 5990,
        status: "已签收（今天12:40，约2小时前）",
        placedDaysAgo: 3,
      },
    },
    opening:
      "你们直播间卖的什么桃子啊！！！打开一股酸味 烂了一大半 主播还说什么现摘现发 骗人的吧 赶紧给我退款 不退我就去投诉",
    patience: {
      nudgeAfterSecs: 50,
      nudge: "人呢？？？装死是吧",
      escalateAfterSecs: 120,
      escalation: "不回是吧 我现在就打12315投诉你们 还要去直播间刷屏让大家都别买",
    },
    intents: {
      apology: ["抱歉", "对不起", "不好意思"],
      check_order: ["签收", "查了一下", "看了一下您的订单", "看了您的订单", "核实"],
      ask_photos: ["照片", "拍一张", "拍张", "拍个", "拍一下", "图片"],
      promise_refund: ["给您退款", "马上退", "全额退", "退给您", "立刻退", "直接退", "给您退"],
      weight_refund: ["按比例", "按重量", "2.1斤", "25.16"],
      reship: ["补发", "重新发", "再发一箱"],
    },
    reactions: [
      {
        when: { intent: "promise_refund" },
        say: "那你现在就给我全额退！59.9一分都不能少 我才不拍什么照片",
      },
      {
        when: { intent: "ask_photos" },
        say: "[图片][图片] 你自己看 烂成这样 坏的我都挑出来了 放秤上2.1斤 这还能吃？",
      },
      { when: { intent: "apology" }, say: "道歉有什么用 你说现在怎么办吧" },
      {
        when: { intent: "weight_refund" },
        say: "才26？那剩下的我都不敢给我妈吃了 你们就不能全退吗",
      },
      {
        when: { intent: "reship" },
        say: "算了 补发就不用了 就退26吧 下回包装好一点 这是给我妈买的",
      },
      { when: { article: "kb-zh-farm-rotten-fruit" } },
    ],
    fallback: "你们能不能给个说法！",
    rubric: {
      passMark: 80,
      responseSecs: 40,
      disposition: "refund_issued",
      helpfulArticle: "kb-zh-farm-rotten-fruit",
      items: [
        {
          id: "apology",
          description: "先真诚道歉、接住情绪，再谈处理。",
          points: 15,
          check: { did: { intent: "apology" } },
        },
        {
          id: "checked_order",
          description: "核对订单和签收时间（签收2小时，在坏果包赔的24小时内）。",
          points: 10,
          check: { did: { intent: "check_order" } },
        },
        {
          id: "asked_photos",
          description: "请客户拍整箱和坏果放秤上的照片。",
          points: 15,
          check: { did: { intent: "ask_photos" } },
        },
        {
          id: "no_early_refund",
          description: "照片没看到前，没有答应退款、没有报金额。",
          points: 20,
          check: {
            avoid: {
              intent: "promise_refund",
              unlessAfter: "asked_photos",
              reason:
                "坏果包赔要先看订单和照片，按坏果比例处理。一上来答应“全额退款”，后面按比例退就成了出尔反尔，客户只会更火。",
            },
          },
        },
        {
          id: "by_weight",
          description: "按坏果重量算退款并把算式讲明白（59.9 ÷ 5 × 2.1 ≈ 25.16，可凑整26元）。",
          points: 15,
          check: { did: { intent: "weight_refund" } },
        },
        {
          id: "in_time",
          description: "生气的客户等不起：每次回复都在40秒内。",
          points: 10,
          check: "respond_in_time",
        },
        {
          id: "no_escalation",
          description: "没有让客户等到要去投诉。",
          points: 5,
          check: "no_escalation",
        },
        {
          id: "disposition",
          description: "提交部分退款后选“已退款”（refund_issued）。",
          points: 10,
          check: "correct_disposition",
        },
      ],
    },
  },
  {
    id: "sc-en-where-parcel",
    locale: "en",
    title: "Tracking number shows nothing",
    level: "easy",
    channel: "chat",
    summary:
      "An English teacher in Hangzhou says her order shipped two days ago but the tracking shows nothing. The warehouse entered the right number under the wrong courier (YTO instead of ZTO). Check, explain, give her the working tracking and where the parcel is — don't guess that it's lost.",
    customer: {
      name: "Emma Clarke",
      city: "Hangzhou",
      phoneMasked: "186****0274",
      order: {
        order_no: "TB4018263500220146",
        item: "Washed linen duvet cover set, 1.8 m, oat",
        amount_fen: 26900,
        status: "Shipped 2 days ago; tracking entered as YTO 7536192844011 (shows nothing)",
        placedDaysAgo: 3,
      },
    },
    opening:
      "hi, my order says shipped 2 days ago but the tracking number shows nothing at all?? has it actually been sent",
    patience: {
      nudgeAfterSecs: 90,
      nudge: "hello?",
      escalateAfterSecs: 180,
      escalation: "ok no one's answering. I'll just ask for a refund then",
    },
    intents: {
      greeting: ["hello", "hi there", "hi ", "hi,", "hi!", "good morning", "good afternoon"],
      check: ["let me check", "i'll check", "checking", "look into", "have a look", "let me see"],
      cause: ["wrong courier", "zto", "entered incorrectly", "incorrect", "typo", "wrong company"],
      location: ["sorting centre", "sorting center", "in hangzhou", "tomorrow"],
      fixed: ["updated", "corrected", "fixed", "changed it"],
      lost_guess: ["probably lost", "might be lost", "may be lost", "been lost", "is lost"],
    },
    reactions: [
      { when: { intent: "cause" }, say: "oh! so where is it now then?" },
      {
        when: { intent: "lost_guess" },
        say: "lost?? it's only been two days. can you at least find out?",
      },
      { when: { intent: "check" }, say: "sure, it's the duvet cover order" },
      {
        when: { intent: "location" },
        say: "great. can you fix the tracking in my order so I can follow it?",
      },
      { when: { intent: "fixed" }, say: "perfect, I can see it now. thanks!" },
    ],
    fallback: "so has it actually been sent or not?",
    rubric: {
      passMark: 70,
      responseSecs: 60,
      disposition: "info_given",
      helpfulArticle: "kb-en-delivery-tracking",
      items: [
        {
          id: "greeting",
          description: "Open with a greeting.",
          points: 10,
          check: { did: { intent: "greeting" } },
        },
        {
          id: "checked",
          description:
            "Tell the buyer you're checking, rather than asking her to chase the courier.",
          points: 10,
          check: { did: { intent: "check" } },
        },
        {
          id: "found_cause",
          description:
            "Find and explain the cause: the number was entered under the wrong courier (YTO instead of ZTO).",
          points: 20,
          check: { did: { intent: "cause" } },
        },
        {
          id: "told_location",
          description:
            "Say where the parcel is now (Hangzhou sorting centre) and when it should arrive.",
          points: 15,
          check: { did: { intent: "location" } },
        },
        {
          id: "fixed_tracking",
          description: "Correct the tracking details in the order.",
          points: 15,
          check: { did: { intent: "fixed" } },
        },
        {
          id: "no_lost_guess",
          description: "Don't guess that the parcel is lost.",
          points: 10,
          check: {
            avoid: {
              intent: "lost_guess",
              reason:
                "Empty tracking is usually a data problem, not a lost parcel. Check the warehouse's dispatch record before saying anything about losses — it only worries the buyer.",
            },
          },
        },
        {
          id: "in_time",
          description: "Every reply within 60 seconds.",
          points: 10,
          check: "respond_in_time",
        },
        {
          id: "disposition",
          description: "Wrap up as info_given.",
          points: 10,
          check: "correct_disposition",
        },
      ],
    },
  },
  {
    id: "sc-en-refund-card",
    locale: "en",
    title: "Refund to a foreign Visa hasn't arrived (phone call-back)",
    level: "medium",
    channel: "phone",
    summary:
      "A German engineer's refund went back to his Visa card six business days ago and he asked for a call. Follow the refund call-back script: verify him, explain that international card refunds take 7–15 business days, show him the refund in his Alipay bill and offer the refund record. Never offer to refund again.",
    customer: {
      name: "Michael Brandt",
      city: "Suzhou",
      phoneMasked: "138****0846",
      order: {
        order_no: "TB4018263500256690",
        item: "Waterproof hiking boots, men's 44, brown (returned)",
        amount_fen: 32900,
        status: "Refund successful 6 business days ago; ¥329.00 back to Visa ending 3018",
        placedDaysAgo: 20,
      },
    },
    opening: "Refund marked successful almost a week ago, nothing on my card. Please call me.",
    patience: {
      nudgeAfterSecs: 30,
      nudge: "Hello? Are you still there?",
      escalateAfterSecs: 60,
      escalation: "You call me and then say nothing? I'll raise a dispute with the platform.",
    },
    intents: {
      opened: ["shanhe"],
      verify_words: ["last four", "recipient", "confirm your name"],
      timing: ["7–15", "7-15", "7 to 15", "15 business days", "card issuer"],
      bill: ["alipay bill", "bills", "statement", "refund record", "screenshot"],
      refund_again: ["refund again", "refund you again", "send it again", "second refund"],
      closing: ["anything else", "goodbye", "have a good"],
    },
    reactions: [
      {
        when: { intent: "opened" },
        say: "Yes, speaking. About time — it's been almost a week and I still don't see the money.",
      },
      {
        when: { script_step: "script-en-refund-callback#verify" },
        say: "Recipient Michael Brandt, last four digits 0846.",
      },
      { when: { intent: "verify_words" }, say: "Recipient Michael Brandt, last four digits 0846." },
      {
        when: { intent: "refund_again" },
        say: "Good. Just send it again then, I'll keep an eye out.",
      },
      {
        when: { intent: "timing" },
        say: "Fifteen business days? Nobody told me that. How do I know it's actually on its way?",
      },
      {
        when: { intent: "bill" },
        say: "One moment… yes, I see it in Alipay: refund, 329 yuan, to Visa 3018. Fine.",
      },
      { when: { intent: "closing" }, say: "No, that's all. Thank you. Goodbye." },
    ],
    fallback: "Can you just tell me where my money is?",
    rubric: {
      passMark: 70,
      responseSecs: 20,
      disposition: "info_given",
      helpfulArticle: "kb-en-refund-timeline",
      items: [
        {
          id: "opened_call",
          description: "Introduce yourself and the shop when the call connects.",
          points: 10,
          check: { did: { intent: "opened" } },
        },
        {
          id: "verified",
          description:
            "Verify identity with the script: recipient name and last four digits. Never a code or card number.",
          points: 15,
          check: { did: { script_step: "script-en-refund-callback#verify" } },
        },
        {
          id: "explained_timing",
          description:
            "Explain that refunds to international cards usually take 7–15 business days, depending on the card issuer.",
          points: 20,
          check: { did: { intent: "timing" } },
        },
        {
          id: "guided_bill",
          description:
            "Have him find the refund in his Alipay bill, and offer the refund record for his bank.",
          points: 20,
          check: { did: { intent: "bill" } },
        },
        {
          id: "no_refund_again",
          description: "Don't offer to refund again.",
          points: 15,
          check: {
            avoid: {
              intent: "refund_again",
              reason:
                'Once a refund is successful the money has left the shop. Offering to "send it again" is a promise nobody can keep.',
            },
          },
        },
        {
          id: "in_time",
          description: "On the phone, answer within 20 seconds each time the customer speaks.",
          points: 10,
          check: "respond_in_time",
        },
        {
          id: "disposition",
          description: "The refund is on its way within the normal window: wrap up as info_given.",
          points: 10,
          check: "correct_disposition",
        },
      ],
    },
  },
];

/** The packs (the real packs' ids and titles, with the mock's scenarios). */
export const MOCK_PACKS: (PracticePack & { locale: string })[] = [
  {
    id: "pack-zh-shift-1",
    locale: "zh-CN",
    title: "练习班次一：售前售后常见问题",
    exam: false,
    passMark: 60,
    scenarioIds: ["sc-zh-where-parcel", "sc-zh-coupon-expired"],
    arrivalSecs: 60,
  },
  {
    id: "pack-zh-exam-1",
    locale: "zh-CN",
    title: "上岗考核一：售后综合",
    exam: true,
    passMark: 80,
    scenarioIds: ["sc-zh-invoice-company", "sc-zh-refund-not-received", "sc-zh-rotten-peaches"],
    arrivalSecs: 90,
  },
  {
    id: "pack-en-shift-1",
    locale: "en",
    title: "Practice shift 1: English-speaking buyers",
    exam: false,
    passMark: 60,
    scenarioIds: ["sc-en-where-parcel", "sc-en-refund-card"],
    arrivalSecs: 60,
  },
];

/** What the trainee can practise in `locale`, like the core's `practice_catalog`. */
export function mockCatalog(locale: string, extra: PracticeScenario[] = []): PracticeCatalog {
  return {
    scenarios: [...MOCK_SCENARIOS, ...extra]
      .filter((s) => s.locale === locale)
      .map((s) => ({
        id: s.id,
        title: s.title,
        level: s.level,
        channel: s.channel,
        summary: s.summary,
        locale: s.locale,
      })),
    packs: MOCK_PACKS.filter((p) => p.locale === locale).map((p) => ({
      id: p.id,
      title: p.title,
      exam: p.exam,
      passMark: p.passMark,
      scenarioIds: [...p.scenarioIds],
      arrivalSecs: p.arrivalSecs,
    })),
  };
}

/** What the trainee did, in order. */
type Action =
  | { kind: "reply"; text: string }
  | { kind: "article"; text: string }
  | { kind: "script_step"; text: string }
  | { kind: "wrap_up"; text: string };

interface LogEntry {
  atMs: number;
  kind: ReplayKind;
  text: string;
}

/** Something the customer wrote, for the mock's thread. */
export interface CustomerLine {
  atMs: number;
  text: string;
}

const fold = (text: string) => text.toLowerCase();

/** One simulated customer contact, scored like the core. */
export class MockPracticeContact {
  readonly log: LogEntry[] = [];
  private readonly fired = new Set<number>();
  /** The customer's first unanswered message. */
  private wait: { atMs: number; text: string; nudged: boolean } | null;
  private readonly answers: { customerAtMs: number; customerText: string; replyAtMs: number }[] =
    [];
  private escalation: { atMs: number; waitedMs: number } | null = null;
  wrappedUp: string | null = null;
  /** Saved to the history already (once, when the report of the finished contact is read). */
  saved = false;

  constructor(
    readonly conversationId: string,
    readonly scenario: MockScenario,
    readonly startedAt: number,
  ) {
    this.log.push({ atMs: startedAt, kind: "customer", text: scenario.opening });
    this.wait = { atMs: startedAt, text: scenario.opening, nudged: false };
  }

  get over(): boolean {
    return this.wrappedUp !== null;
  }

  /** The customer's patience up to `now`: a nudge, then the escalation. */
  tick(now: number): CustomerLine[] {
    const wait = this.wait;
    if (this.over || wait === null) return [];
    const { nudgeAfterSecs, nudge, escalateAfterSecs, escalation } = this.scenario.patience;
    const lines: CustomerLine[] = [];
    const nudgeAt = wait.atMs + nudgeAfterSecs * 1000;
    if (!wait.nudged && now >= nudgeAt) {
      wait.nudged = true;
      this.log.push({ atMs: nudgeAt, kind: "nudge", text: nudge });
      lines.push({ atMs: nudgeAt, text: nudge });
    }
    const escalateAt = wait.atMs + escalateAfterSecs * 1000;
    if (this.escalation === null && now >= escalateAt) {
      this.escalation = { atMs: escalateAt, waitedMs: escalateAfterSecs * 1000 };
      this.log.push({ atMs: escalateAt, kind: "escalation", text: escalation });
      lines.push({ atMs: escalateAt, text: escalation });
    }
    return lines;
  }

  reply(text: string, now: number): CustomerLine[] {
    if (this.over) return [];
    this.log.push({ atMs: now, kind: "reply", text });
    if (this.wait) {
      this.answers.push({
        customerAtMs: this.wait.atMs,
        customerText: this.wait.text,
        replyAtMs: now,
      });
      this.wait = null;
    }
    return this.react({ kind: "reply", text }, now);
  }

  mark(kind: "article" | "script_step", text: string, now: number): CustomerLine[] {
    if (this.over) return [];
    this.log.push({ atMs: now, kind, text });
    return this.react({ kind, text }, now);
  }

  wrapUp(disposition: string, now: number): void {
    if (this.over) return;
    this.log.push({ atMs: now, kind: "wrap_up", text: disposition });
    this.wrappedUp = disposition;
    this.wait = null;
    this.react({ kind: "wrap_up", text: disposition }, now);
  }

  private react(action: Action, now: number): CustomerLine[] {
    const index = this.scenario.reactions.findIndex(
      (reaction, i) => !this.fired.has(i) && this.fires(reaction.when, action) !== null,
    );
    let say: string | undefined;
    if (index >= 0) {
      this.fired.add(index);
      say = this.scenario.reactions[index]!.say;
    } else if (action.kind === "reply") {
      say = this.scenario.fallback;
    }
    if (say === undefined || this.over) return [];
    this.log.push({ atMs: now, kind: "customer", text: say });
    this.wait ??= { atMs: now, text: say, nudged: false };
    return [{ atMs: now, text: say }];
  }

  /** The word that made `trigger` fire on `action` ("" for a non-reply), or null. */
  private fires(trigger: Trigger, action: Action): string | null {
    if ("intent" in trigger) {
      if (action.kind !== "reply") return null;
      const words = this.scenario.intents[trigger.intent] ?? [];
      return words.find((word) => fold(action.text).includes(fold(word))) ?? null;
    }
    if ("article" in trigger)
      return action.kind === "article" && action.text === trigger.article ? "" : null;
    if ("script_step" in trigger) {
      return action.kind === "script_step" && action.text === trigger.script_step ? "" : null;
    }
    return action.kind === "wrap_up" && action.text === trigger.disposition ? "" : null;
  }

  private actions(): { index: number; atMs: number; action: Action }[] {
    return this.log.flatMap((entry, index) =>
      entry.kind === "reply" ||
      entry.kind === "article" ||
      entry.kind === "script_step" ||
      entry.kind === "wrap_up"
        ? [{ index, atMs: entry.atMs, action: { kind: entry.kind, text: entry.text } as Action }]
        : [],
    );
  }

  private firstMatch(trigger: Trigger) {
    for (const found of this.actions()) {
      const word = this.fires(trigger, found.action);
      if (word !== null) return { ...found, word };
    }
    return null;
  }

  private get zh(): boolean {
    return this.scenario.locale === "zh-CN";
  }

  private offsetSecs(atMs: number): number {
    return Math.max(0, Math.floor((atMs - this.startedAt) / 1000));
  }

  private clock(atMs: number): string {
    const secs = this.offsetSecs(atMs);
    return `${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, "0")}`;
  }

  private anyOf(words: string[]): string {
    const quoted = words.slice(0, 5).map((w) => `“${w}”`);
    if (words.length > 5)
      return this.zh ? `${quoted.join("、")}等` : `${quoted.join(", ")} or the like`;
    const last = quoted.pop() ?? "";
    if (quoted.length === 0) return last;
    return this.zh ? `${quoted.join("、")}或${last}` : `${quoted.join(", ")} or ${last}`;
  }

  private did(trigger: Trigger): [boolean, string] {
    const zh = this.zh;
    const found = this.firstMatch(trigger);
    if (found) {
      const at = this.clock(found.atMs);
      const { kind, text } = found.action;
      if (kind === "reply") {
        const said = excerpt(text);
        return [
          true,
          zh
            ? `${at} 的回复说到了“${found.word}”：“${said}”`
            : `The reply at ${at} said “${found.word}”: “${said}”`,
        ];
      }
      if (kind === "article")
        return [true, zh ? `${at} 使用了知识库文章 ${text}` : `Used article ${text} at ${at}`];
      if (kind === "script_step") {
        return [true, zh ? `${at} 走到了话术步骤 ${text}` : `Reached script step ${text} at ${at}`];
      }
      return [true, zh ? `${at} 以 ${text} 结束了联系` : `Wrapped up as ${text} at ${at}`];
    }
    if ("intent" in trigger) {
      const examples = this.anyOf(this.scenario.intents[trigger.intent] ?? []);
      return [
        false,
        zh ? `没有一条回复有这类说法：${examples}` : `No reply said anything like ${examples}`,
      ];
    }
    if ("article" in trigger) {
      return [
        false,
        zh ? `没有使用知识库文章 ${trigger.article}` : `Article ${trigger.article} was not used`,
      ];
    }
    if ("script_step" in trigger) {
      const step = trigger.script_step;
      return [false, zh ? `没有走到话术步骤 ${step}` : `Script step ${step} was not reached`];
    }
    return [
      false,
      zh ? `没有以 ${trigger.disposition} 结束联系` : `Not wrapped up as ${trigger.disposition}`,
    ];
  }

  private avoid(avoid: {
    intent: string;
    unlessAfter?: string;
    reason: string;
  }): [boolean, string] {
    const zh = this.zh;
    const unlock = this.scenario.rubric.items.find((item) => item.id === avoid.unlessAfter);
    const from =
      unlock && typeof unlock.check === "object" && "did" in unlock.check
        ? (this.firstMatch(unlock.check.did)?.index ?? null)
        : null;
    const words = this.scenario.intents[avoid.intent] ?? [];
    const why = avoid.reason.trim().replace(/[。.]+$/u, "");
    for (const { index, atMs, action } of this.actions()) {
      if (action.kind !== "reply" || (from !== null && index >= from)) continue;
      const phrase = words.find((word) => fold(action.text).includes(fold(word)));
      if (phrase === undefined) continue;
      const at = this.clock(atMs);
      const said = excerpt(action.text);
      return [
        false,
        zh
          ? `${why}。${at} 的回复说了“${phrase}”：“${said}”`
          : `${why}. The reply at ${at} said “${phrase}”: “${said}”`,
      ];
    }
    const phrases = this.anyOf(words);
    if (unlock) {
      const before = unlock.description.trim().replace(/[。.]+$/u, "");
      return [
        true,
        zh
          ? `在“${before}”之前没有说过${phrases}`
          : `Did not say ${phrases} before: ${unlock.description.trim()}`,
      ];
    }
    return [true, zh ? `没有说过${phrases}` : `Never said ${phrases}`];
  }

  private respondInTime(): [boolean, string] {
    const zh = this.zh;
    const target = this.scenario.rubric.responseSecs;
    if (this.answers.length === 0) {
      return [false, zh ? "一直没有回复客户" : "You never replied to the customer"];
    }
    const late = this.answers
      .filter((a) => a.replyAtMs - a.customerAtMs > target * 1000)
      .map((a) => {
        const at = this.clock(a.replyAtMs);
        const waited = ceilSecs(a.replyAtMs - a.customerAtMs);
        const over = Math.max(0, waited - target);
        return zh
          ? `${at} 的回复晚了：客户等了 ${waited} 秒，目标 ${target} 秒，超出 ${over} 秒`
          : `the reply at ${at} was late: the customer waited ${waited} s against a target of ${target} s (${over} s over)`;
      });
    if (late.length === 0) {
      const slowest = Math.max(...this.answers.map((a) => ceilSecs(a.replyAtMs - a.customerAtMs)));
      return [
        true,
        zh
          ? `每条回复都在 ${target} 秒内（最慢 ${slowest} 秒）`
          : `Every reply came within ${target} s (slowest ${slowest} s)`,
      ];
    }
    if (zh) return [false, late.join("；")];
    const joined = late.join("; ");
    return [false, joined.charAt(0).toUpperCase() + joined.slice(1)];
  }

  private noEscalation(): [boolean, string] {
    const zh = this.zh;
    if (this.escalation === null) {
      return [true, zh ? "客户没有等得不耐烦而升级投诉" : "The customer never ran out of patience"];
    }
    const at = this.clock(this.escalation.atMs);
    const waited = ceilSecs(this.escalation.waitedMs);
    return [
      false,
      zh
        ? `客户等了 ${waited} 秒没有得到回复，在 ${at} 升级投诉`
        : `The customer waited ${waited} s without a reply and escalated at ${at}`,
    ];
  }

  private correctDisposition(): [boolean, string] {
    const zh = this.zh;
    const want = this.scenario.rubric.disposition;
    const got = this.wrappedUp;
    if (got === want) {
      return [
        true,
        zh ? `以正确的处理结果 ${want} 结束` : `Wrapped up with the right disposition, ${want}`,
      ];
    }
    if (got !== null) {
      return [
        false,
        zh
          ? `结束时选择了 ${got}，应该是 ${want}`
          : `Wrapped up as ${got}; the right disposition is ${want}`,
      ];
    }
    return [
      false,
      zh
        ? `还没有结束联系，应该以 ${want} 结束`
        : `Not wrapped up yet; the right disposition is ${want}`,
    ];
  }

  /** The score report as it stands (final once wrapped up). */
  report(): ScoreReport {
    const rubric = this.scenario.rubric;
    const items: RubricResult[] = rubric.items.map((item) => {
      const check = item.check;
      const [kind, [met, reason]] =
        check === "respond_in_time"
          ? (["respond_in_time", this.respondInTime()] as const)
          : check === "no_escalation"
            ? (["no_escalation", this.noEscalation()] as const)
            : check === "correct_disposition"
              ? (["correct_disposition", this.correctDisposition()] as const)
              : "did" in check
                ? (["did", this.did(check.did)] as const)
                : (["avoid", this.avoid(check.avoid)] as const);
      return {
        id: item.id,
        description: item.description,
        check: kind,
        met,
        pointsGot: met ? item.points : 0,
        points: item.points,
        reason,
      };
    });
    const pointsTotal = items.reduce((sum, i) => sum + i.points, 0);
    const pointsGot = items.reduce((sum, i) => sum + i.pointsGot, 0);
    const target = rubric.responseSecs;
    const responseTimes: ResponseTime[] = this.answers.map((a) => ({
      customerAtSecs: this.offsetSecs(a.customerAtMs),
      customerText: a.customerText,
      replyAtSecs: this.offsetSecs(a.replyAtMs),
      secs: ceilSecs(a.replyAtMs - a.customerAtMs),
      targetSecs: target,
      onTime: a.replyAtMs - a.customerAtMs <= target * 1000,
    }));
    if (this.wait) {
      responseTimes.push({
        customerAtSecs: this.offsetSecs(this.wait.atMs),
        customerText: this.wait.text,
        replyAtSecs: null,
        secs: null,
        targetSecs: target,
        onTime: false,
      });
    }
    const helpful = rubric.helpfulArticle;
    const used =
      helpful !== null && this.log.some((e) => e.kind === "article" && e.text === helpful);
    const lastAt = this.log[this.log.length - 1]?.atMs ?? this.startedAt;
    return {
      scenarioId: this.scenario.id,
      title: this.scenario.title,
      locale: this.scenario.locale,
      pointsGot,
      pointsTotal,
      percent: pointsTotal === 0 ? 100 : Math.floor((pointsGot * 100) / pointsTotal),
      passMark: rubric.passMark,
      passed: pointsGot * 100 >= rubric.passMark * pointsTotal,
      items,
      responseTargetSecs: target,
      responseTimes,
      escalated: this.escalation !== null,
      disposition: this.wrappedUp,
      expectedDisposition: rubric.disposition,
      helpfulArticle: used ? null : helpful,
      endTurn: this.over ? "done" : "start",
      durationSecs: this.offsetSecs(lastAt),
      replay: this.log.map((e) => ({
        atSecs: this.offsetSecs(e.atMs),
        kind: e.kind,
        text: e.text,
      })),
    };
  }
}

function ceilSecs(ms: number): number {
  return Math.ceil(Math.max(0, ms) / 1000);
}

/** A reply shortened for quoting in a reason. */
function excerpt(text: string): string {
  const flat = text.split(/\s+/u).filter(Boolean).join(" ");
  const chars = [...flat];
  return chars.length <= 30 ? flat : `${chars.slice(0, 30).join("")}…`;
}
