// 界面文字（简体中文）——默认语言。写法以一线客服的日常说法为准。
// Every user-facing string lives here and in en.ts; components only use keys.

export const zhCN = {
  "app.title": "居家客服工作台",
  "app.version": "版本 {version}",
  "app.loading": "正在加载…",

  "language.label": "界面语言",

  "queue.heading": "会话队列",
  "queue.caption": "分配给我的会话和团队待领取的会话",
  "queue.column.channel": "渠道",
  "queue.column.customer": "客户",
  "queue.column.lastMessage": "最新消息",
  "queue.column.waiting": "已等待",
  "queue.column.sla": "剩余时限",
  "queue.empty": "暂时没有会话。连上平台后，分给你的会话和待领取的会话会显示在这里。",
  "queue.column.action": "操作",
  "queue.scope.label": "显示哪些会话",
  "queue.scope.all": "全部",
  "queue.scope.mine": "我的",
  "queue.scope.unassigned": "待领取",
  "queue.minutes": "{n} 分钟",
  "queue.hours": "{h} 小时 {m} 分",
  "queue.slaMissed": "已超时",
  "queue.claim": "领取",
  "queue.claimLabel": "领取{customer}的会话",
  "queue.sending": "正在提交",
  "queue.mine": "我在处理",

  "queue.open": "打开",
  "queue.openLabel": "打开{customer}的会话",

  "conversation.phone": "电话 {phone}",
  "conversation.close": "收起",
  "conversation.thread": "聊天记录",
  "conversation.customer": "客户",
  "conversation.me": "我",
  "conversation.note": "内部备注",
  "conversation.pending": "发送中",
  "conversation.reply": "回复客户",
  "conversation.send": "发送",
  "conversation.disposition": "处理结果",
  "conversation.resolve": "结束会话",
  "conversation.release": "退回队列",
  "conflict.message":
    "有 {count} 条操作没能提交（会话可能已被同事接手），回复的文字已放回输入框，请打开会话查看。",
  "disposition.resolved": "问题已解决",
  "disposition.refund_issued": "已办理退款",
  "disposition.exchange_arranged": "已安排换货",
  "disposition.info_given": "已答复咨询",
  "disposition.escalated": "已升级处理",
  "disposition.callback_scheduled": "已约回电",
  "disposition.no_response": "客户未回复",
  "disposition.spam": "骚扰/无效",

  "knowledge.heading": "知识库",
  "knowledge.search": "搜索知识库",
  "knowledge.placeholder": "输入中文、拼音或英文，如 退款、tk",
  "knowledge.none": "没有找到相关文章，换个说法试试。",
  "knowledge.closeArticle": "收起文章",

  "channel.chat": "在线咨询",
  "channel.phone": "电话回拨",
  "channel.ticket": "工单",

  "signIn.heading": "登录工作台",
  "signIn.platform": "平台地址",
  "signIn.agent": "工号",
  "signIn.password": "密码",
  "signIn.submit": "登录",
  "signIn.busy": "正在登录…",
  "agent.signedInAs": "当前客服：{name}（{code}）",
  "agent.signOut": "退出登录",

  "connection.label": "连接状态",
  "connection.online": "在线",
  "connection.degraded": "网络不稳定",
  "connection.offline": "离线",
  "connection.pending": "待发送 {count} 条",
  "connection.lastSync": "上次同步 {time}",
  "connection.signInNeeded": "登录已失效，请重新登录；未发送的操作会保留。",
  "connection.offlineHint": "断网也能照常处理，网络恢复后会自动发送。",

  "error.invalid_input": "操作没有完成：提交的内容不对。",
  "error.storage": "保存失败：电脑磁盘写不进去，请检查磁盘空间后再试。",
  "error.wrong_password": "工号或密码不对，请核对后再试。",
  "error.unreachable": "连不上平台，请检查网络和平台地址。断网期间可以继续处理，恢复后会自动发送。",
  "error.untrusted_certificate":
    "平台的安全证书不受信任，请核对平台地址，或找培训老师要正确的证书文件。",
  "error.platform": "平台返回的内容无法识别，请稍后再试。",
  "error.not_signed_in": "还没有登录，请先登录。",
  "error.ipc": "程序内部出错了，请重启客服台后再试。",
  "error.dismiss": "知道了",
} as const;

export type MessageKey = keyof typeof zhCN;
export type Messages = Record<MessageKey, string>;
