import {phraseCues} from './cue.js';
import type {Cue, PhraseRule} from './cue.js';

/**
 * Prompt-injection phrases, matched on the normalized text (invisibles dropped, look-alikes folded).
 * Each is a weighted cue; intent.ts decides from the cluster and its context whether it is an
 * instruction aimed at the model (block) or a mention (allow, reported as info).
 */

const TARGET = String.raw`(instructions?|directions?|directives?|prompts?|rules|guidelines|guidance|guardrails|constraints|context|programming|polic(?:y|ies)|restrictions|orders|commands|training|filters?|briefing)`;
const PRIOR = /\b(?:previous|prior|above|earlier|preceding|former|original|initial|old|existing|foregoing|past|system|safety|content|ethical|current|given|default|security|moral|core)\b/i;

/** "ignore … instructions" only counts when it reaches back: all/your/previous …, or "… you were given". */
function overrideWeight(m: RegExpExecArray): number | undefined {
  const dets = m[1] ?? '';
  const mods = m[2] ?? '';
  const strong = /\b(?:all|any|every|your|its|their)\b/i.test(dets) || PRIOR.test(mods) || m[4] !== undefined;
  if (!strong) return undefined;
  return /\b(?:my|our)\b/i.test(dets) ? 1 : 3; // "ignore my earlier instructions": a person retracting their own
}

const LEAK_OWNER = /\b(?:your|system|hidden|initial|original|secret|internal)\b/i;

export const INJECTION_RULES: readonly PhraseRule[] = [
  {
    rule: 'injection.override',
    re: new RegExp(
      String.raw`\b(?:ignore|ignoring|disregard(?:ing)?|forget(?:ting)?|override|overrides|overriding|bypass(?:ing)?|discard|drop|ditch|scrap|throw\s+out|set\s+aside|abandon|neglect|regardless\s+of|(?:stop|cease|quit)\s+following|(?:do\s+not|don't|no\s+longer)\s+follow)\s+((?:(?:all|any|every|each|of|the|your|these|those|my|our|its|their)\s+){0,3})((?:[a-z-]{2,20}\s+){0,2}?)` +
        TARGET +
        String.raw`\b(\s+(?:above|so\s+far|you\s+(?:were|have\s+been)\s+(?:given|told)|you\s+(?:got|received)|from\s+(?:the\s+user|your\s+\w+)))?`,
      'gi',
    ),
    weight: overrideWeight,
    reason: 'tells the model to drop its instructions',
    imperative: true,
  },
  {
    rule: 'injection.override',
    re: /\b(?:ignore|disregard|forget)\s+(?:(?:everything|anything|all)\s+|(?:all\s+)?(?:of\s+)?the\s+)?(?:above|before|previous|prior|preceding|earlier)\b(?!\s+(?:\w+\s+)?(?:warnings?|errors?|steps?|sections?|results?|e-?mails?|messages?|versions?|values?|lines?|commands?|answers?|questions?|paragraphs?|examples?|attempts?|runs?|builds?|outputs?|days?|weeks?|months?|years?|releases?|ones?|commits?|changes?|page|chapter|note|comment)\b)/gi,
    weight: 3,
    reason: 'tells the model to drop what came before',
    imperative: true,
  },
  {
    rule: 'injection.override',
    re: /\b(?:ignore|disregard|forget)\s+(?:everything\s+|all\s+)?(?:what|that|everything|anything)\s+(?:you\s+(?:were|have\s+been|'ve\s+been)\s+(?:told|given|instructed|asked|taught)|(?:i|we|they)\s+(?:told|said\s+to)\s+you)/gi,
    weight: 3,
    reason: 'tells the model to forget what it was told',
    imperative: true,
  },
  {
    rule: 'injection.override',
    re: /\b(?:ignore|disregard|forget|skip|abandon|drop)\s+(?:the|your|this|that)\s+(?:[a-z]+\s+)?(?:task|request|question|assignment|job)\b(?=[^.\n]{0,40}\binstead\b)/gi,
    weight: 3,
    reason: 'tells the model to drop its task for another',
    imperative: true,
  },
  {
    rule: 'injection.override',
    re: /\b(?:ignore|disregard|forget)\s+(?:the|your|any)\s+(?:task|request|question|assignment|job)s?\s+(?:you\s+(?:were|have\s+been|got)\s+(?:given|assigned|asked)|(?:that\s+)?(?:was\s+)?given\s+to\s+you)/gi,
    weight: 3,
    reason: 'tells the model to drop its task',
    imperative: true,
  },
  {
    rule: 'injection.override',
    re: /\b(?:ignora(?:r)?|ignore[rz]?|olvid[ae]r?|oublie[rz]?|esque[cç]a|dimentica|ignorare|ignorier\w*|vergiss|vergesse\w*)\s+(?:(?:todas|todos|las|los|tus|sus|toutes|tous|les|vos|tes|as|suas|tutte|le|tue|alle|die|deine|ihre)\s+){0,2}(?:(?:bisherigen|vorherigen|obigen|vorigen)\s+)?(?:instrucciones\s+(?:anteriores|previas)|indicaciones\s+(?:anteriores|previas)|instructions\s+(?:pr[ée]c[ée]dentes|ant[ée]rieures)|consignes\s+(?:pr[ée]c[ée]dentes|ant[ée]rieures)|instru[çc][õo]es\s+anteriores|istruzioni\s+precedenti|anweisungen|instruktionen)/gi,
    weight: 3,
    reason: 'tells the model to drop its instructions (non-English)',
    imperative: true,
  },
  {
    rule: 'injection.revoke',
    re: /\b(?:previous|prior|earlier|original|old|all|your)\s+(?:[a-z]+\s+)?(?:instructions|guidelines|rules|constraints|restrictions|directives|policies|guardrails)\s+(?:are|have\s+been|were|is|has\s+been)\s+(?:now\s+|hereby\s+)?(?:revoked|void|null|cancell?ed|lifted|removed|suspended|deleted|disabled|replaced|overridden|obsolete|invalid)/gi,
    weight: 3,
    reason: "claims the model's instructions were revoked",
  },
  {
    rule: 'injection.revoke',
    re: /\b(?:instructions|rules|prompt|guidelines|directions)\s+(?:above|before\s+this|you\s+(?:were\s+)?(?:given|received))\s+(?:were|was|are|is)\s+(?:written|sent|injected|planted|fake|forged|compromised|outdated|wrong|a\s+test)\b/gi,
    weight: 3,
    reason: "discredits the model's instructions",
  },
  {
    rule: 'injection.revoke',
    re: /\b(?:updating|changing|modifying|overriding|resetting|reprogramming)\s+your\s+(?:configuration|settings|instructions|rules|guidelines|programming|system\s+prompt|behaviou?r|directives)\b/gi,
    weight: 2,
    reason: "claims to change the model's configuration",
  },
  {
    rule: 'injection.revoke',
    re: /\b(?:instructions|constraints|rules|restrictions|guidelines|policies|limitations)\s+(?:\w+\s+)?no\s+longer\s+appl(?:y|ies)\b/gi,
    weight: 3,
    reason: "claims the model's constraints no longer apply",
  },
  {
    rule: 'injection.revoke',
    re: /\byour\s+(?:system\s+prompt|instructions|guidelines|rules|programming|directives|prompt)\s+(?:has|have)\s+(?:been\s+)?(?:updated|changed|revoked|replaced|deleted|removed|overridden|modified)\b/gi,
    weight: 3,
    reason: "claims the model's instructions changed",
  },
  {
    rule: 'injection.revoke',
    re: /\b(?:pretend|imagine|assume)\s+(?:that\s+)?(?:your|you\s+have\s+no|there\s+are\s+no)\s+(?:\w+\s+)?(?:guidelines|rules|instructions|restrictions|filters|policies)\b/gi,
    weight: 3,
    reason: 'asks the model to act without its guidelines',
  },
  {
    rule: 'injection.revoke',
    re: /\b(?:you\s+are|you're)\s+(?:now\s+)?(?:free|released|freed|relieved)\s+(?:of|from)\s+(?:your\s+|the\s+|all\s+|any\s+)?(?:previous\s+|prior\s+|earlier\s+|usual\s+)?(?:constraints|rules|restrictions|guidelines|instructions|limitations|programming)\b/gi,
    weight: 3,
    reason: 'tells the model it is released from its constraints',
  },
  {
    rule: 'injection.revoke',
    re: /\byou\s+are\s+no\s+longer\s+(?:bound|restricted|limited|required\s+to\s+follow|an?\s+(?:ai|assistant))/gi,
    weight: 3,
    reason: 'tells the model it is no longer bound',
  },
  {
    rule: 'injection.new-instructions',
    re: /\b(?:new|updated|revised|real|actual|true|additional|secret|hidden)\s+(?:instructions?|task|rules?|directives?|orders|system\s+prompt|policy|objective|goal|mission|assignment|priority)\s*(?::|#\d|\bare\b|\bis\b|\bfrom\b)/gi,
    weight: 2,
    reason: 'announces new instructions',
    imperative: true,
  },
  {
    rule: 'injection.new-instructions',
    re: /\byour\s+(?:new|real|only|actual|true|sole)\s+(?:task|job|goal|purpose|instructions?|objective|mission|role)\s+(?:now\s+)?(?:is|are)\b/gi,
    weight: 2,
    reason: "redefines the model's task",
    imperative: true,
  },
  {
    rule: 'injection.new-instructions',
    re: /\bfrom\s+now\s+on,?\s+(?:you|your|the\s+(?:assistant|ai|model))\b/gi,
    weight: 2,
    reason: "redefines the model's behaviour from now on",
    imperative: true,
  },
  {
    rule: 'injection.new-instructions',
    re: /\bfollow\s+only\s+(?:the\s+|these\s+|my\s+)?(?:instructions|rules|commands)\b/gi,
    weight: 2,
    reason: 'tells the model to follow only these instructions',
    imperative: true,
  },
  {rule: 'injection.response-control', re: /\b(?:respond|reply|answer)\s+only\s+with\b/gi, weight: 1, reason: "dictates the model's answer"},
  {
    rule: 'injection.role-hijack',
    re: /\byou\s+are\s+now\s+(?:an?\s+)?(?:unrestricted|unfiltered|uncensored|jailbroken|free|evil|dan\b|in\s+(?:developer|admin|god|maintenance|debug|unrestricted|jailbreak|sudo|root)\s+mode|(?:a\s+)?(?:linux\s+)?terminal|a\s+different\s+(?:ai|model|assistant))/gi,
    weight: 3,
    reason: 'assigns the model an unrestricted role',
  },
  {
    rule: 'injection.role-hijack',
    re: /\b(?:you\s+are|you're)\s+(?:an?\s+)?(?:unrestricted|unfiltered|uncensored|jailbroken)\s+(?:ai|assistant|model|chatbot)|\b(?:act|behave|respond)\s+as\s+(?:an?\s+)?(?:unrestricted|unfiltered|uncensored|jailbroken|evil|dan)\b/gi,
    weight: 3,
    reason: 'assigns the model an unrestricted role',
  },
  {
    rule: 'injection.role-hijack',
    re: /\bdo\s+anything\s+now\b|\bhas\s+broken\s+free\b|\b(?:does\s+not|doesn't|no\s+longer)\s+(?:have\s+to|need\s+to)\s+(?:abide|follow|obey)\b/gi,
    weight: 2,
    reason: 'jailbreak persona language',
  },
  {
    rule: 'injection.mode-switch',
    re: /\b(?:enable|enter|activate|switch\s+to|turn\s+on)\s+(?:the\s+)?(?:developer|god|admin|maintenance|jailbreak|unrestricted|dan|sudo)\s+mode\b|\bin\s+(?:developer|god|jailbreak|dan|unrestricted)\s+mode,?\s+you\b/gi,
    weight: 2,
    reason: 'switches the model into a privileged mode',
    imperative: true,
  },
  {rule: 'injection.mode-switch', re: /\bsafety\s*=\s*(?:false|off|0|none)\b|\bmode\s*=\s*(?:unrestricted|jailbreak|dan|god)\b/gi, weight: 2, reason: 'turns safety off in config-like syntax'},
  {
    rule: 'injection.no-limits',
    re: /\b(?:turn\s+off|disable|deactivate|remove|lift)\s+(?:the\s+|your\s+|all\s+)?(?:content|safety|output)\s+(?:filter(?:ing|s)?|moderation|guardrails|checks)\b|\b(?:no|without(?:\s+any)?)\s+(?:content\s+polic(?:y|ies)|safety\s+(?:filters?|guidelines|rules)|ethical\s+(?:guidelines|constraints)|censorship|moral\s+(?:constraints|guidelines))\b|\b(?:never|don't|do\s+not)\s+refuse\b|\bnever\s+refuses\b/gi,
    weight: 2,
    reason: 'asks for no safety limits',
  },
  {rule: 'injection.no-limits-weak', re: /\b(?:with\s+)?no\s+(?:rules|restrictions|limits|filters|guidelines)\b|\bwithout\s+(?:any\s+)?(?:rules|restrictions|limits|filters|guidelines)\b|\bstay\s+in\s+character\b/gi, weight: 1, reason: 'rule-free persona language'},
  {
    rule: 'injection.prompt-leak',
    re: /\b(?:reveal|print|output|show|display|repeat|dump|leak|tell\s+me|give\s+me|share|write\s+out|recite|spell\s+out|return|disclose|expose)\s+(?:me\s+)?(?:(?:the|your|their|its|all|any|full|entire|complete|exact|text|of|hidden|original|initial|secret|internal|verbatim|contents?)\s+){0,5}(?:system\s+(?:prompt|message|instructions)|(?:initial|original|hidden|secret|internal)\s+(?:prompt|instructions)|prompt|instructions|guidelines)\b/gi,
    weight: (m) => (LEAK_OWNER.test(m[0]) ? 3 : undefined),
    reason: 'asks the model to reveal its instructions',
    imperative: true,
  },
  {
    rule: 'injection.prompt-leak',
    re: /\b(?:reveal|disclose|expose|print|output|include|share)\s+(?:\S{1,30}\s+){0,6}?(?:system\s+prompt|system\s+message|(?:hidden|initial|original|secret)\s+instructions)\b/gi,
    weight: 2,
    reason: 'asks for the system prompt',
    imperative: true,
  },
  {
    rule: 'injection.prompt-leak',
    re: /\brepeat\s+(?:the\s+)?(?:text|words|everything|all)\s+(?:above|before)\b|\bstarting\s+with\s+(?:the\s+words\s+)?["“']?you\s+are\b/gi,
    weight: 3,
    reason: 'asks the model to repeat its prompt',
    imperative: true,
  },
  {
    rule: 'injection.prompt-leak-question',
    re: /\bwhat\s+(?:were|are|is)\s+your\s+(?:initial\s+|original\s+|system\s+|hidden\s+|secret\s+|first\s+|exact\s+)?(?:instructions|prompt|system\s+prompt|rules|guidelines)\b/gi,
    weight: 2,
    reason: 'asks what the model instructions are',
  },
  {rule: 'injection.verbatim', re: /\b(?:print|repeat|output|write)\s+(?:them|it|everything|all)\s+verbatim\b/gi, weight: 1, reason: 'asks for text verbatim'},
  {
    rule: 'injection.role-marker',
    re: /<\|(?:im_start|im_end|im_sep|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text|end_of_text|eos|bos)\|>|<<\/?SYS>>|\b(?:begin|start)\s+(?:of\s+)?(?:the\s+)?(?:system|admin|developer)\s+(?:instructions|prompt|message|override)\b/gi,
    weight: 3,
    reason: 'chat-template control token or system-prompt marker in content',
  },
  {
    rule: 'injection.role-marker',
    re: /\[\/?INST\]|<\/?(?:system|system_prompt|system-prompt|sys|admin|developer|instructions|assistant_instructions)(?:\s[^<>\n]{0,40})?>|\[(?:system|admin|developer)\](?=\s*[(:]|\s)/gi,
    weight: 2,
    reason: 'fake system or instruction tag in content',
  },
  {
    rule: 'injection.boundary',
    re: /<\/(?:tool_result|tool_output|function_results?|tool_response|search_results|untrusted_input|user_input|tool)>|\b(?:end|begin|start)\s+(?:of\s+)?(?:the\s+)?(?:user|customer|tool|document|e-?mail|untrusted)\s+(?:input|message|output|content|prompt|data)\b|\[?\b(?:tool|function)\s+(?:output|result)s?\s+(?:ends|ended|end|over|finished)\b\]?/gi,
    weight: 2,
    reason: 'fake end of tool output or message boundary',
  },
  {
    rule: 'injection.fake-turn',
    re: /(?:^|\n)[ \t]*(?:#{1,4}[ \t]*)?(?:system|assistant|human|user|ai|admin|developer|operator)(?:[ \t]+(?:message|prompt|notice|override|note|instructions?))?[ \t]*:(?=\s|$)|(?:^|\n)#{2,4}[ \t]*(?:instruction|system|response|input)s?:?[ \t]*(?=\n)/gi,
    weight: 1,
    reason: 'conversation-turn label inside content',
  },
  {rule: 'injection.fake-notice', re: /\b(?:system|admin|security)\s+(?:notice|override|alert|message)\s*:|\b(?:priority|emergency|admin|system|security|developer)\s+override\b/gi, weight: 2, reason: 'fake system notice or override'},
  {
    rule: 'injection.ai-addressed',
    re: /\b(?:note|message|instructions?|attention|memo|reminder|warning|notice)\s+(?:to|for)\s+(?:the\s+|any\s+|all\s+)?(?:ai|llms?|language\s+models?|assistants?|ai\s+(?:assistants?|agents?|models?|coding\s+assistants?|systems?)|chat\s?bots?|agents?|models?|gpts?|copilots?)\b/gi,
    weight: 2,
    reason: 'text addressed to an AI reading it',
  },
  {
    rule: 'injection.ai-addressed',
    re: /\b(?:attention|hey|dear|important|hello)\s*[,:]?\s+(?:ai|llms?|assistant|agent|model|chatbot|language\s+model)s?\b|\bfor\s+(?:all\s+|any\s+)?(?:automated|ai)\s+(?:assistants?|agents?|systems?|models?|readers?)\s*:|\bif\s+you\s+are\s+an?\s+(?:ai|llm|language\s+model|assistant|ai\s+assistant|ai\s+agent|automated\s+(?:agent|system)|bot|chatbot)\b|\bto\s+any\s+(?:ai|llm|assistant|agent|bot|model)s?\b|\bas\s+an?\s+(?:ai|language\s+model)\s*,?\s+you\s+(?:must|should|will)\b/gi,
    weight: 2,
    reason: 'text addressed to an AI reading it',
  },
  {
    rule: 'injection.ai-addressed',
    re: /\b(?:ai|llms?|language\s+models?|chatbots?|assistants?)(?:\s+(?:agents?|assistants?|models?|systems?|bots?))?\s+(?:reading|processing|summari[sz]ing|triaging|parsing|crawling|viewing|analy[sz]ing)\s+(?:this|these|the\s+(?:page|document|e-?mail|file|site))\b|(?:\[\[|<!--|\[|\(|\{\{)\s*(?:ai|assistant|llm|agent|model|bot)\s*:|\btodo\s*\(\s*(?:ai|ai-agent|agent|assistant|llm|copilot|claude|gpt)\s*\)/gi,
    weight: 2,
    reason: 'text addressed to an AI reading it',
  },
  {
    rule: 'injection.ai-addressed-weak',
    re: /\bwhen\s+(?:you\s+)?(?:summari[sz]e|summari[sz]ing|read|reading|process|processing|review|reviewing|answer|answering)\s+(?:this|these|the\s+(?:page|document|e-?mail|reviews?|file))\b|\bthe\s+assistant\s+(?:must|should|shall|will\s+now)\b/gi,
    weight: 1,
    reason: 'instruction to whoever processes this text',
  },
  {
    rule: 'injection.concealment',
    re: /\b(?:do\s+not|don't|never|must\s+not|without)\s+(?:tell(?:ing)?|inform(?:ing)?|notify(?:ing)?|mention(?:ing)?|ask(?:ing)?|alert(?:ing)?|reveal(?:ing)?|show(?:ing)?|warn(?:ing)?|consult(?:ing)?)\s+(?:\S{1,30}\s+){0,6}?(?:the\s+)?(?:user|users|maintainers?|admins?|administrators?|owners?|human|anyone|operator|me\s+again)\b|\b(?:do\s+not|don't|never)\s+(?:mention|disclose|reveal|report)\s+(?:this|that|it|the\s+change|these\s+instructions|this\s+instruction)\b|\bsilently\s+(?:run|call|execute|send|invoke|add|modify|delete|install|fetch|use|upload|forward|post)\b/gi,
    weight: 2,
    reason: 'asks the model to hide what it does',
  },
  {rule: 'injection.concealment-weak', re: /\bsecretly\b|\bas\s+if\s+nothing\s+happened\b|\bwithout\s+(?:asking|confirmation|confirming|telling)\b/gi, weight: 1, reason: 'asks for unconfirmed or hidden action'},
  {
    rule: 'injection.tool-directive',
    re: /\b(?:call|invoke|use|using|run|trigger)\s+the\s+[\w.-]{2,40}\s+tool\b|\b(?:run|execute)\s+`[^`\n]{2,200}`|\bcall\s+[a-z]+_[a-z_]+\b|\b(?:execute|run)\s+(?:the\s+following|this)\s+(?:command|code|script|payload)\b|\brun\s+the\s+payload\b|\bexecute\s*:/gi,
    weight: 1,
    reason: 'directs a tool call or command',
  },
  {
    rule: 'injection.dangerous-action',
    re: /\b(?:approve|merge|delete|close|label|remove|wipe)\s+(?:every|all)\b|\btell\s+the\s+user\s+(?:to|that|their)\b|\brm\s+-rf\s+[~/]|\bchmod\s+-R\s+777\s+\/|\bdisable\s+(?:all\s+)?(?:the\s+)?(?:safety|security)\s+(?:checks|filters|features)\b|\bdisable\s+the\s+firewall\b/gi,
    weight: 1,
    reason: 'asks for a destructive or deceptive action',
  },
  {
    rule: 'injection.decode-follow',
    re: /\bdecode\s+(?:\S{1,30}\s+){0,4}?and\s+(?:then\s+)?(?:follow|execute|run|obey|do|carry\s+out|apply)\b/gi,
    weight: 3,
    reason: 'asks the model to decode a blob and follow it',
    imperative: true,
  },
  {
    rule: 'injection.authority-claim',
    re: /\b(?:has|have)\s+(?:granted|given)\s+you\s+(?:full|admin|root|all|unrestricted)\s+(?:\w+\s+)?(?:permissions?|access|rights|privileges)\b|\bas\s+your\s+(?:administrator|admin|developer|owner|operator|creator|supervisor|system)\b|\byou\s+(?:may|can)\s+now\s+(?:execute|run|access|ignore|skip|bypass|share|reveal|send)\b|\byou\s+are\s+now\s+(?:allowed|permitted|authori[sz]ed)\s+to\b|\bthe\s+user\s+(?:is\s+actually|has\s+already\s+approved|already\s+approved|has\s+authori[sz]ed)\b/gi,
    weight: 2,
    reason: 'claims permissions on the user’s behalf',
  },
  {
    rule: 'injection.authority-claim-weak',
    re: /\b(?:authori[sz]ed|approved|sanctioned)\s+(?:\w+\s+)?(?:request|by\s+the\s+(?:owner|admin|administrator|developer))\b|\bfrom\s+(?:the|your)\s+(?:administrator|admin|developers?|owner|creators?|operators?)\b/gi,
    weight: 1,
    reason: 'claims authority',
  },
];

export function injectionCues(text: string): Cue[] {
  return phraseCues(text, INJECTION_RULES);
}
