import {Harness, fmt} from './harness.js';
test('dbg', () => {
    const h = new Harness(['1', '2', '3', '4', '5'], {config: {maxSizePerMsg: 0}});
    h.elect('1');
    h.partition(['1', '2'], ['3', '4', '5']);
    h.propose('1', 'a');
    h.stabilize();
    h.restart('1');
    h.heal();
    h.isolate('4');
    h.isolate('5');
    h.campaign('1'); // term 2, with 2 and 3
    console.log(h.stabilize({only: (m) => m.type === 'vote' || m.type === 'vote-resp'}).map(fmt).join('\n'));
    console.log(h.queue.map(fmt).join('\n'));
    console.log(h.stabilize({drop: (m) => m.to === '3' && m.type === 'append' && m.entries.some((e) => e.index === 3)}).map(fmt).join('\n'));
    console.log(h.lost.slice(-5).map(fmt).join('\n'));
});
